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
}
