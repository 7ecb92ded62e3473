import type { EventDeliveryStatus } from '../client/convoy.types.js';

/** A form or query value the dashboard refuses; shown as a notice on the page (400), never a 500. */
export class DashboardInputError extends Error {}

/** Field lengths the forms accept (the management API checks the values themselves). */
export const FIELD_LIMITS = {
  id: 100,
  name: 200,
  url: 2_048,
  description: 1_000,
  ownerId: 200,
  eventTypes: 1_000,
  eventType: 200,
  secret: 256,
  cursor: 200,
  search: 200,
  date: 30,
} as const;

export const MAX_PAGE_SIZE = 100;
export const DELIVERY_STATUSES: EventDeliveryStatus[] = [
  'Success',
  'Failure',
  'Retry',
  'Scheduled',
  'Processing',
  'Discarded',
];

type Source = Record<string, unknown> | undefined;

/** A single text value (trimmed), '' when absent; refused when repeated or longer than `max`. */
export function text(source: Source, name: string, max: number, label = name): string {
  const value = source?.[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new DashboardInputError(`${label} must be a single value`);
  if (value.length > max) throw new DashboardInputError(`${label} is longer than ${max} characters`);
  return value.trim();
}

/** A whole number in [min, max], or `fallback` when absent or empty. */
export function integer(
  source: Source,
  name: string,
  min: number,
  max: number,
  fallback: number,
  label = name,
): number {
  const raw = text(source, name, 12, label);
  if (raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new DashboardInputError(`${label} must be a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new DashboardInputError(`${label} must be between ${min} and ${max}`);
  return n;
}

/** Several values of one name (repeated fields), each a string of at most `max` characters; at most `count` of them. */
export function list(source: Source, name: string, max: number, count: number): string[] {
  const value = source?.[name];
  if (value === undefined || value === null || value === '') return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.length > count) throw new DashboardInputError(`at most ${count} ${name} values at once`);
  return values.map((v) => {
    if (typeof v !== 'string' || v.length > max) throw new DashboardInputError(`${name} values must be short text`);
    return v;
  });
}

export function pageSize(source: Source): number {
  return integer(source, 'perPage', 1, MAX_PAGE_SIZE, 20, 'Page size');
}

/** `2026-12-02T10:15` (a datetime-local field, read as UTC) → Convoy's `YYYY-MM-DDTHH:MM:SS`. */
export function utcDate(source: Source, name: string, label: string): string | undefined {
  const raw = text(source, name, FIELD_LIMITS.date, label);
  if (raw === '') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/.exec(raw);
  if (!match || Number.isNaN(Date.parse(`${match[1]}T${match[2]}${match[3] ?? ':00'}Z`)))
    throw new DashboardInputError(`${label} must be a date and time, e.g. 2026-12-02T10:15 (UTC)`);
  return `${match[1]}T${match[2]}${match[3] ?? ':00'}`;
}

export function status(source: Source): EventDeliveryStatus | undefined {
  const raw = text(source, 'status', 20, 'Status');
  if (raw === '') return undefined;
  const found = DELIVERY_STATUSES.find((s) => s === raw);
  if (!found) throw new DashboardInputError(`Status must be one of ${DELIVERY_STATUSES.join(', ')}`);
  return found;
}

/** `todo.*, invoice.paid` → ['todo.*', 'invoice.paid']; empty → undefined (the endpoint's default, every type). */
export function eventTypes(source: Source): string[] | undefined {
  const raw = text(source, 'event_types', FIELD_LIMITS.eventTypes, 'Event types');
  const types = raw
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  return types.length ? types : undefined;
}
