/**
 * JSON text that is already serialized (and validated): embedded into a request body as is,
 * so an event's data is serialized exactly once, compactly, and Convoy signs those very bytes.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Serializes a request body compactly (Convoy signs the compacted JSON, so nothing is pretty-printed).
 * A top-level `data` given as RawJson is spliced in verbatim; a body given as RawJson is sent as it is.
 */
export function encodeJsonBody(body: unknown): string {
  if (body instanceof RawJson) return body.text; // a whole body serialized by the caller
  const data = body !== null && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  if (!(data instanceof RawJson)) return JSON.stringify(body);
  // Field by field: cheaper than copying the body without `data` and serializing the copy (this runs per event).
  const record = body as Record<string, unknown>;
  let text = `{"data":${data.text}`;
  for (const key in record) {
    if (key === 'data' || !Object.hasOwn(record, key)) continue;
    const value = JSON.stringify(record[key]);
    if (value !== undefined) text += `,${JSON.stringify(key)}:${value}`;
  }
  return `${text}}`;
}
