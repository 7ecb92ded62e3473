import { formatTraceparent, isTraceparent, parseTraceparent } from '../../../lib/telemetry/trace-context.js';

/** The W3C traceparent stored with an event and sent to receivers: written and read without a propagator. */
describe('trace context', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';

  it('formats a span context as version 00, flags as two hex digits', () => {
    expect(formatTraceparent({ traceId, spanId, traceFlags: 1 })).toBe(`00-${traceId}-${spanId}-01`);
    expect(formatTraceparent({ traceId, spanId, traceFlags: 0 })).toBe(`00-${traceId}-${spanId}-00`);
    expect(formatTraceparent({ traceId, spanId, traceFlags: 0x1f })).toBe(`00-${traceId}-${spanId}-1f`);
  });

  it('accepts the W3C form', () => {
    expect(isTraceparent(`00-${traceId}-${spanId}-01`)).toBe(true);
  });

  it('parses what it formats into a remote span context, with its tracestate', () => {
    const state = { serialize: () => 'rojo=1' };
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`, 'rojo=1', () => state)).toEqual({
      traceId,
      spanId,
      traceFlags: 1,
      isRemote: true,
      traceState: state,
    });
  });

  it.each([
    ['nothing', null],
    ['another version', `01-${traceId}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['upper case', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${spanId}-01`],
    ['trailing data', `00-${traceId}-${spanId}-01-extra`],
  ])('refuses %s', (_, value) => {
    expect(parseTraceparent(value, undefined)).toBeUndefined();
    expect(isTraceparent(value)).toBe(false);
  });
});
