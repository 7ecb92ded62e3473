import { execFileSync } from 'node:child_process';

/**
 * The dual-package hazard: an ESM app that also loads a CommonJS library requiring nestjs-convoy has both builds in
 * one process. The fixture registers the module with the ESM build and injects, decorates and catches with the
 * CommonJS build's classes; everything must meet the one instance the module made.
 */
describe('both builds in one process', () => {
  const result = () =>
    JSON.parse(
      execFileSync(process.execPath, ['test/smoke/fixtures/both-builds.mjs'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '' },
      }),
    );
  let out: ReturnType<typeof result>;
  beforeAll(() => {
    out = result();
  });

  it('loads two copies of the package', () => {
    expect(out.builds).toEqual([true, true]);
  });

  it("injects the CommonJS build's classes with the instances the ESM build's module made", () => {
    expect([out.samePublisher, out.sameClient, out.sameRecorder]).toEqual([true, true, true]);
  });

  it("publishes once for a route decorated by the CommonJS build, with both builds' interceptors applied", () => {
    expect(out.status).toBe(201);
    expect(out.recorded).toEqual(['todo.created', 'invoice.paid']);
  });

  it("sees the ESM build's events on the CommonJS build's diagnostics channels", () => {
    expect(out.channel).toEqual(['todo.created', 'invoice.paid']);
  });

  it('matches errors by class across builds, and only by the right class', () => {
    expect(out.errors).toEqual({
      cjsInEsm: [true, true, true],
      esmInCjs: [true, true],
      otherClass: [false, false, false],
    });
  });
});
