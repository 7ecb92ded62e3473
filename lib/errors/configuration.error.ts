import { ConvoyError } from './convoy.error.js';

/** A module option is missing or wrong. Thrown while the application boots, so a bad deploy fails fast. */
export class ConvoyConfigurationError extends ConvoyError {
  constructor(
    /** The option at fault, e.g. `projectId` or `dispatcher.concurrency`. */
    readonly option: string,
    /** What is wrong with it. Never contains a credential's value. */
    readonly problem: string,
    /** How to fix it. */
    readonly fix: string,
  ) {
    super(`Invalid ConvoyModule option "${option}": ${problem}. Fix: ${fix}`);
  }
}
