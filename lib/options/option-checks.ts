import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { describeValue } from '../utils/describe-value.js';

/** Small checks shared by every options validator; each throws a ConvoyConfigurationError naming the option. */

export function checkObject(option: string, value: unknown, fix: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConvoyConfigurationError(option, `expected an object, got ${describeValue(value)}`, fix);
  }
}

/** Refuses keys the option object does not know, suggesting the closest known one (typos fail loudly, not silently). */
export function checkKnownKeys(option: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key) || value[key] === undefined) continue;
    const suggestion = closest(key, known);
    const name = option ? `${option}.${key}` : key;
    throw new ConvoyConfigurationError(
      name,
      'is not a known option',
      suggestion
        ? `did you mean "${option ? `${option}.` : ''}${suggestion}"?`
        : `remove it; known options are ${known.join(', ')}`,
    );
  }
}

/** A string option: when `secret`, its value never appears in the message. */
export function checkString(
  option: string,
  value: unknown,
  fix: string,
  opts: { secret?: boolean; pattern?: RegExp; patternHint?: string } = {},
): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConvoyConfigurationError(option, `expected a non-empty string, got ${describeValue(value)}`, fix);
  }
  if (/[\r\n]/.test(value) || value !== value.trim()) {
    throw new ConvoyConfigurationError(
      option,
      'contains a line break or surrounding white space',
      `trim the value (often a stray newline from a .env file or secret store); ${fix}`,
    );
  }
  if (opts.pattern && !opts.pattern.test(value)) {
    const shown = opts.secret ? '' : ` ("${value}")`;
    throw new ConvoyConfigurationError(option, `has the wrong format${shown}; expected ${opts.patternHint}`, fix);
  }
  return value;
}

export function checkInteger(option: string, value: unknown, min: number, max: number, fix: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === 'number' ? String(value) : describeValue(value);
    throw new ConvoyConfigurationError(option, `expected a whole number from ${min} to ${max}, got ${got}`, fix);
  }
  return value;
}

export function checkBoolean(option: string, value: unknown, fix: string): boolean {
  if (typeof value !== 'boolean') {
    throw new ConvoyConfigurationError(option, `expected true or false, got ${describeValue(value)}`, fix);
  }
  return value;
}

function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
