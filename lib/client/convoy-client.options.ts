import type { OptionsOf } from '../options/option-table.js';
import type { CLIENT_OPTIONS } from '../options/option-tables.js';
import type { RetryOptions } from '../options/convoy-module-options.js';

/** How to reach and authenticate to one Convoy project (`new ConvoyClient({…})`, or the module's `convoy: {…}`). */
export type ConvoyClientOptions = OptionsOf<typeof CLIENT_OPTIONS>;

/** Options of a single call, to override the client's defaults. */
export interface ConvoyRequestOptions {
  /** Per-attempt timeout of this call, in ms. */
  timeoutMs?: number;
  /** Retries of this call (keys left out keep the client's), or false for none. */
  retry?: RetryOptions | false;
  signal?: AbortSignal;
}
