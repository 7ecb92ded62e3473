/**
 * How long a test waits for a condition before it fails. Long on purpose: a passing test never waits this long,
 * while on a loaded machine (say, two test runs on two cores) everything takes many times longer than on a quiet one.
 * Tests wait for conditions, never for a fixed time, so load can slow them down but not fail them.
 */
export const PATIENCE_MS = 60_000;

/** Polls until `check` holds; fails after `timeoutMs` naming what it waited for. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = PATIENCE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
