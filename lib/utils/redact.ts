/** The `user:password@` of a URL, parsed or not (`admin:pw@host/x` is no URL, and its "scheme" would be the user). */
export const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?[^/?#@\s]*@/i;

/**
 * A URL (or what was meant as one) fit for a message or a log line: the userinfo becomes `***@` and the query `?***`,
 * and the fragment is dropped, since each may hold a token or a password. Scheme, host and path stay, to say which
 * URL it was. Works on text that does not parse as a URL too (a typo is still quoted safely).
 */
export function redactUrl(value: string): string {
  return String(value)
    .replace(USERINFO, '$1***@')
    .replace(/[?#][\s\S]*$/, (rest) => (rest.startsWith('?') ? '?***' : ''));
}

/** `text` with every URL in it redacted (see redactUrl), e.g. a driver's message that quotes a connection string. */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, redactUrl);
}

/** `text` with every occurrence of each secret (ignoring ones too short to be a credential) replaced by `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of secrets) if (secret.length >= 4) scrubbed = scrubbed.replaceAll(secret, '[redacted]');
  return scrubbed;
}

/** What an Authorization header value gives away: itself, its token, and for Basic the user and password it encodes. */
export function authorizationSecrets(authorization: string): string[] {
  const [scheme = '', token = ''] = authorization.split(' ', 2);
  if (scheme.toLowerCase() !== 'basic') return [authorization, token];
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return [authorization, token, decoded, decoded.slice(colon + 1), decoded.slice(0, colon)];
}
