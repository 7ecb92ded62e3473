import { CircuitBreaker } from '../../../lib/transports/embedded/circuit-breaker.js';

/** The circuit's rules on a made-up clock: open after N failures in a row, one probe per interval, closed by a success. */
describe('CircuitBreaker', () => {
  const settings = { failureThreshold: 3, probeIntervalMs: 1_000 };

  it('stays closed below the threshold, and a success resets the count', () => {
    const breaker = new CircuitBreaker(settings);
    expect(breaker.record('e', false, false, 0)).toBeUndefined();
    expect(breaker.record('e', false, false, 0)).toBeUndefined();
    expect(breaker.record('e', true, false, 0)).toBeUndefined();
    expect(breaker.record('e', false, false, 0)).toBeUndefined();
    expect(breaker.record('e', false, false, 0)).toBeUndefined();
    expect(breaker.admit('e', 0)).toBeUndefined();
    expect(breaker.admit('other', 0)).toBeUndefined();
  });

  it('opens at the threshold; then one probe per interval, the others wait until the next probe', () => {
    const breaker = new CircuitBreaker(settings);
    for (let i = 0; i < 2; i++) breaker.record('e', false, false, 100);
    expect(breaker.record('e', false, false, 100)).toBe('opened');
    expect(breaker.admit('e', 500)).toBe(1_100);
    expect(breaker.admit('e', 1_100)).toBe('probe');
    // While the probe is out, nothing else goes, even past the next probe time.
    expect(breaker.admit('e', 1_200)).toBe(2_100);
    expect(breaker.admit('e', 2_500)).toBe(3_500);
    // The probe failed: the next one an interval later; a straggler's failure does not free the probe slot.
    expect(breaker.record('e', false, true, 2_600)).toBeUndefined();
    expect(breaker.admit('e', 3_000)).toBe(3_600);
    expect(breaker.admit('e', 3_600)).toBe('probe');
    expect(breaker.record('e', false, false, 3_700)).toBeUndefined();
    expect(breaker.admit('e', 3_800)).toBe(4_600);
  });

  it('a success closes it: every attempt goes again', () => {
    const breaker = new CircuitBreaker(settings);
    for (let i = 0; i < 3; i++) breaker.record('e', false, false, 0);
    expect(breaker.admit('e', 1_000)).toBe('probe');
    expect(breaker.record('e', true, true, 1_050)).toBe('closed');
    expect(breaker.admit('e', 1_060)).toBeUndefined();
    expect(breaker.admit('e', 1_060)).toBeUndefined();
  });
});
