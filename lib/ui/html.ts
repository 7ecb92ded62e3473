/**
 * Server-rendered HTML for the dashboard and the portal. Every interpolated value is escaped unless it is already
 * `Html` (made by this tag or by `trustedHtml`), so text from endpoints, publishers and customers is shown as inert
 * text: a response body holding `<script>` renders as those characters.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Values: Html as is; arrays joined; null, undefined and false as nothing; anything else as escaped text. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written by this library (never by an outsider), to be inserted as is. */
export function trustedHtml(markup: string): Html {
  return new Html(markup);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value shown as text is escaped
  return escapeHtml(String(value));
}
