import type { PipelineSettings } from '../../lib/pipeline/pipeline.js';

/** Pipeline settings for tests that build a DeliveryPipeline by hand: fast retries, with what each test tunes. */
export function pipelineSettings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
  return {
    concurrency: 2,
    endpointConcurrency: 2,
    maxSlowAttempts: 64,
    batchSize: 50,
    leaseMs: 30_000,
    pollIntervalMs: 1_000,
    drainTimeoutMs: 10_000,
    retry: { attempts: 3, strategy: 'exponential', delayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5_000 },
    ...overrides,
  };
}
