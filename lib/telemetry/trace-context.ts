import type { SpanContext } from './otel-api.js';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` stored with an event and sent to
 * receivers. Written and read here rather than through the registered propagator, so that what is stored is W3C
 * whatever propagator the app uses (B3, Jaeger), and a process without the SDK can still forward it.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(context: SpanContext): string {
  const flags = context.traceFlags & 0xff;
  return `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/** The span context a stored `traceparent` names (remote: it was made elsewhere), or undefined when it is not valid. */
export function parseTraceparent(
  traceparent: string | null | undefined,
  tracestate: string | null | undefined,
  createTraceState?: (text: string) => { serialize(): string },
): SpanContext | undefined {
  if (!traceparent) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: parseInt(match[3]!, 16),
    isRemote: true,
    traceState: tracestate && createTraceState ? createTraceState(tracestate) : undefined,
  };
}

/** A traceparent fit to store: the W3C form, or nothing (what a caller put in a header is not trusted blindly). */
export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value);
}
