import { ConvoyConfigurationError } from '../errors/configuration.error.js';
import { describeValue } from '../utils/describe-value.js';

// A small table engine of our own rather than zod: errors must name the full option path and never quote secrets,
// and the option types must work for TypeScript ≥ 5.0 consumers (zod 4 needs ≥ 5.5) with each option's doc carried.

/** What an option's default and relevance depend on. */
export interface Setup {
  transport: 'convoy' | 'embedded' | 'log' | 'custom';
  /** Deliveries are kept in a durable store (the module's `storage`, or a durable `embedded.store`). */
  durable: boolean;
}

export type Warn = (message: string) => void;

/** One option: how to check a given value, its default, and when it has no effect. */
export interface Option<Out, In = Out> {
  check(value: unknown, path: string, setup: Setup, warn: Warn): Out;
  /** A value, or a function of the setup (so no option may default to a function value). */
  default?: Out | ((setup: Setup) => Out);
  /** Why the option has no effect in this setup, if it has none. */
  idleWhen?(setup: Setup): string | false;
  /** Input type carrier only. */
  readonly input?: In;
}

export type Table = Record<string, Option<unknown, unknown>>;
/** What a user may pass: every option optional, with the doc comment of its table entry. */
export type OptionsOf<T extends Table> = { -readonly [K in keyof T]?: NonNullable<T[K]['input']> };
/** What the code reads: every option checked and defaulted. */
export type ResolvedOf<T extends Table> = { -readonly [K in keyof T]: ReturnType<T[K]['check']> };

export const fail = (path: string, problem: string, fix: string): never => {
  throw new ConvoyConfigurationError(path, problem, fix);
};

export const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

/** Checks every key of `value` against `table`, refuses unknown ones, applies defaults and warns about idle ones. */
export function resolveTable<T extends Table>(
  table: T,
  value: unknown,
  path: string,
  setup: Setup,
  warn: Warn,
  fallback: Partial<ResolvedOf<T>> = {},
): ResolvedOf<T> {
  const given = value === undefined ? {} : value;
  if (given === null || typeof given !== 'object' || Array.isArray(given))
    fail(
      path || '(options)',
      `expected an object, got ${describeValue(value)}`,
      `pass an object with any of ${Object.keys(table).join(', ')}`,
    );
  const input = given as Record<string, unknown>;
  const known = Object.keys(table);
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(table, key) || input[key] === undefined) continue;
    const suggestion = closest(key, known);
    fail(
      join(path, key),
      'is not a known option',
      suggestion ? `did you mean "${join(path, suggestion)}"?` : `remove it; known options are ${known.join(', ')}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const option = table[key]!;
    const at = join(path, key);
    if (input[key] === undefined) {
      const d = Object.hasOwn(fallback, key) ? fallback[key as keyof T] : option.default;
      out[key] = typeof d === 'function' ? (d as (s: Setup) => unknown)(setup) : d;
      continue;
    }
    const idle = option.idleWhen?.(setup);
    if (idle) warn(`${at} has no effect: ${idle}`);
    out[key] = option.check(input[key], at, setup, warn);
  }
  return out as ResolvedOf<T>;
}

/** Builds an option; `idleWhen` and a default are optional. */
export const option = <Out, In = Out>(
  check: (value: unknown, path: string, setup: Setup, warn: Warn) => Out,
  extra: Omit<Option<Out, In>, 'check' | 'input'> = {},
): Option<Out, In> => ({ check, ...extra });

export function integer(range: { min: number; max: number }, fix: string) {
  return (def: number | ((s: Setup) => number), idleWhen?: (s: Setup) => string | false): Option<number> =>
    option(
      (v, path) =>
        typeof v === 'number' && Number.isInteger(v) && v >= range.min && v <= range.max
          ? v
          : fail(
              path,
              `expected a whole number from ${range.min} to ${range.max}, got ${typeof v === 'number' ? v : describeValue(v)}`,
              fix,
            ),
      { default: def, idleWhen },
    );
}

export const boolean = (
  def: boolean,
  fix = 'pass true or false',
  idleWhen?: (s: Setup) => string | false,
): Option<boolean> =>
  option(
    (v, path) => (typeof v === 'boolean' ? v : fail(path, `expected true or false, got ${describeValue(v)}`, fix)),
    { default: def, idleWhen },
  );

export function oneOf<const V extends string>(
  values: readonly V[],
  def: V,
  fix: string,
  idleWhen?: (s: Setup) => string | false,
): Option<V> {
  const list = values.map((v) => `"${v}"`).join(' or ');
  return option(
    (v, path) =>
      values.includes(v as V)
        ? (v as V)
        : fail(path, `expected ${list}, got ${typeof v === 'string' ? `"${v}"` : describeValue(v)}`, fix),
    { default: def, idleWhen },
  );
}

/** An option checked by `fn`, which returns a problem (and the value is refused with `fix`) or undefined. */
export function custom<Out, In = Out>(
  fn: (value: unknown) => string | undefined,
  fix: string,
  extra: Omit<Option<Out, In>, 'check' | 'input'> = {},
): Option<Out, In> {
  return option((v, path) => {
    const problem = fn(v);
    return problem === undefined ? (v as Out) : fail(path, problem, fix);
  }, extra);
}

/**
 * A nested group of options. `fallback` gives the defaults of its keys (a function of the setup, e.g. one retry
 * policy per path), `refine` checks the keys together.
 */
export function group<T extends Table>(
  table: T,
  fallback: (setup: Setup) => Partial<ResolvedOf<T>> = () => ({}),
  extra: { refine?: (value: ResolvedOf<T>, path: string) => void; idleWhen?: (s: Setup) => string | false } = {},
): Option<ResolvedOf<T>, OptionsOf<T>> {
  const resolve = (value: unknown, path: string, setup: Setup, warn: Warn): ResolvedOf<T> => {
    const resolved = resolveTable(table, value, path, setup, warn, fallback(setup));
    extra.refine?.(resolved, path);
    return resolved;
  };
  return { check: resolve, default: (setup) => resolve({}, '', setup, () => {}), idleWhen: extra.idleWhen };
}

/** The option, or `false` to turn the feature off (e.g. `retry: false`). */
export function orFalse<Out, In>(inner: Option<Out, In>): Option<Out | false, In | false> {
  return { ...inner, check: (v, path, setup, warn) => (v === false ? false : inner.check(v, path, setup, warn)) };
}

function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  // The same name in another case, or one name inside the other (`timeout` → `timeoutMs`, `maxAttempts` → `attempts`).
  let best = known.find((k) => k.toLowerCase() === lower) ?? known.find((k) => contains(lower, k.toLowerCase()));
  let bestDistance = 3;
  for (const candidate of best ? [] : known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

const contains = (a: string, b: string): boolean =>
  Math.min(a.length, b.length) >= 5 && (a.includes(b) || b.includes(a));

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
