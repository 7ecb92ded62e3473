import { PIPELINE_CHANNELS } from './pipeline/pipeline.js';
import { EMBEDDED_CHANNELS } from './transports/embedded/embedded.transport.js';

/**
 * The node:diagnostics_channel names the package publishes on, for metrics and alerts, e.g.
 * `diagnostics_channel.subscribe(DIAGNOSTICS_CHANNELS.failed, ({ delivery, reason }) => …)`.
 */
export const DIAGNOSTICS_CHANNELS = {
  ...PIPELINE_CHANNELS,
  ...EMBEDDED_CHANNELS,
} as const;
