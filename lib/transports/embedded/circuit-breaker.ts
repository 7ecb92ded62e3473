import type { ResolvedOf } from '../../options/option-table.js';
import type { CIRCUIT_BREAKER_OPTIONS } from '../../options/option-tables.js';

export type CircuitBreakerSettings = ResolvedOf<typeof CIRCUIT_BREAKER_OPTIONS>;

/** One endpoint's circuit; only endpoints whose last attempts failed have one. */
interface Circuit {
  /** Failed attempts in a row. */
  failures: number;
  open: boolean;
  /** While open: when the next probe may go. */
  probeAt: number;
  /** A probe is in flight. */
  probing: boolean;
}

/**
 * Per-endpoint circuits, as Convoy's circuit breaker: after `failureThreshold` failed attempts in a row an endpoint's
 * circuit opens; its deliveries then wait (not attempted, not counted as attempts), one probe at a time goes every
 * `probeIntervalMs`, and a success closes it. Each process keeps its own view, as it does for Retry-After pauses.
 */
export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();

  constructor(private readonly settings: CircuitBreakerSettings) {}

  /** Before an attempt: undefined to go ahead, `'probe'` when it is the open circuit's probe, else when to look again. */
  admit(endpointId: string, now: number): number | 'probe' | undefined {
    const circuit = this.circuits.get(endpointId);
    if (!circuit?.open) return undefined;
    if (circuit.probing || now < circuit.probeAt)
      return circuit.probeAt > now ? circuit.probeAt : now + this.settings.probeIntervalMs;
    circuit.probing = true;
    circuit.probeAt = now + this.settings.probeIntervalMs;
    return 'probe';
  }

  /** After an attempt: whether the circuit opened or closed with it. */
  record(endpointId: string, succeeded: boolean, probe: boolean, now: number): 'opened' | 'closed' | undefined {
    let circuit = this.circuits.get(endpointId);
    if (succeeded) {
      if (!circuit) return undefined;
      this.circuits.delete(endpointId);
      return circuit.open ? 'closed' : undefined;
    }
    if (!circuit) this.circuits.set(endpointId, (circuit = { failures: 0, open: false, probeAt: 0, probing: false }));
    circuit.failures++;
    if (probe) {
      circuit.probing = false;
      circuit.probeAt = now + this.settings.probeIntervalMs;
    }
    if (circuit.open || circuit.failures < this.settings.failureThreshold) return undefined;
    circuit.open = true;
    circuit.probeAt = now + this.settings.probeIntervalMs;
    return 'opened';
  }
}
