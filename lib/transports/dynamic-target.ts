import { createHmac } from 'node:crypto';

/**
 * The name of the endpoint of a `{ url, secret? }` target, on both transports. A dynamic target is identified by its
 * URL and its secret: each distinct pair (no secret counts as one) has its own endpoint, so a payload is signed only
 * with the secret its caller gave. Two tenants who give the same URL never share an endpoint, nor use one registered
 * through the API. The name carries a fingerprint (an HMAC of the URL keyed with the secret), never the secret.
 */
export function dynamicEndpointName(url: string, secret: string | undefined): string {
  const fingerprint = createHmac('sha256', secret ?? '')
    .update(new URL(url).toString())
    .digest('hex')
    .slice(0, 24);
  return `dynamic-${fingerprint}`;
}
