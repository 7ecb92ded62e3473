/**
 * JSON text that is already serialized (and validated): embedded into a request body as is,
 * so an event's data is serialized exactly once, compactly, and Convoy signs those very bytes.
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Serializes a request body compactly (Convoy signs the compacted JSON, so nothing is pretty-printed).
 * A top-level `data` given as RawJson is spliced in verbatim.
 */
export function encodeJsonBody(body: unknown): string {
  if (body === null || typeof body !== 'object' || !(body as { data?: unknown }).data) return JSON.stringify(body);
  const { data, ...rest } = body as { data: unknown };
  if (!(data instanceof RawJson)) return JSON.stringify(body);
  const others = JSON.stringify(rest);
  return others === '{}' ? `{"data":${data.text}}` : `{"data":${data.text},${others.slice(1)}`;
}
