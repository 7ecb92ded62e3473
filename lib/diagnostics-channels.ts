import { PIPELINE_CHANNELS } from './pipeline/pipeline.js';
import { ENDPOINT_DISABLED_CHANNEL } from './transports/embedded/embedded.transport.js';

/**
 * The node:diagnostics_channel names the package publishes on, for metrics and alerts, e.g.
 * `diagnostics_channel.subscribe(DIAGNOSTICS_CHANNELS.failed, ({ delivery, reason }) => …)`.
 */
export const DIAGNOSTICS_CHANNELS = {
  ...PIPELINE_CHANNELS,
  /** `{ endpoint, reason: 'gone' | 'failing' }`: the embedded engine disabled an endpoint (410, or failing for good). */
  endpointDisabled: ENDPOINT_DISABLED_CHANNEL,
} as const;
