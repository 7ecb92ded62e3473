/** When and how often the client repeats a request that failed in a way that may pass on a second try. */
export interface ConvoyRetryPolicy {
  /** Total attempts, the first included. 1 disables retries. Default 3. */
  maxAttempts: number;
  /** Delay before the first retry, in ms; it doubles each time, with jitter. Default 250. */
  baseDelayMs: number;
  /** Cap of the exponential delay, in ms. Default 5000. */
  maxDelayMs: number;
  /** Cap of a server-requested Retry-After wait, in ms. Default 30000. */
  maxRetryAfterMs: number;
}

/** How to reach and authenticate to one Convoy project. */
export interface ConvoyClientOptions {
  /**
   * The instance's API base, without `/v1`: `https://us.getconvoy.cloud/api` (default), `https://eu.getconvoy.cloud/api`,
   * or a self-hosted `http://localhost:5005/api`. The client appends `/v1/projects/{projectId}/…`.
   */
  baseUrl?: string;
  /** The project's id (Convoy dashboard: Project Settings). */
  projectId?: string;
  /** A project API key (`CO.…`), sent as `Authorization: Bearer`. Not together with username/password. */
  apiKey?: string;
  /** Basic-auth user of a self-hosted instance's file realm (`auth.file.basic`). Needs `password`. */
  username?: string;
  password?: string;
  /** Sent as `X-Convoy-Version` on every request, so the server's response shapes never shift under you. Default `2025-11-24`. */
  apiVersion?: string;
  /** Per-attempt timeout in ms, covering connect, headers and body. Default 10000. */
  timeout?: number;
  /** Retry policy for reads and for idempotency-keyed event creation, or false for none. */
  retry?: Partial<ConvoyRetryPolicy> | false;
  /** `User-Agent` header. Default `nestjs-convoy/<version>`. */
  userAgent?: string;
  /** Upper bound of open keep-alive connections to Convoy. Default 16. */
  connections?: number;
}

/** Options of a single call, to override the client's defaults. */
export interface ConvoyRequestOptions {
  timeout?: number;
  retry?: Partial<ConvoyRetryPolicy> | false;
  signal?: AbortSignal;
}
