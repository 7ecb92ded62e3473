/**
 * Base class of every error this package throws, so `instanceof ConvoyError` catches them all.
 * No error message or property ever holds a credential (API key, password, endpoint secret).
 */
export class ConvoyError extends Error {
  /** Whether trying the same operation again later may succeed. */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /**
   * `instanceof` also holds for an error made by the package's other build (ESM and CommonJS both loaded, see
   * utils/both-builds.ts): its prototype chain has a class of the same name from this package.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    for (
      let proto = Object.getPrototypeOf(value) as object | null;
      proto !== null;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      if ((proto as { constructor?: { name?: unknown } }).constructor?.name === this.name) return true;
    }
    return false;
  }
}

// Marks this package's errors, whichever build made them (see ConvoyError[Symbol.hasInstance]).
const BRAND = Symbol.for('nestjs-convoy:error');
Object.defineProperty(ConvoyError.prototype, BRAND, { value: true });
