import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Dispatcher } from 'undici';

/** A whole HTTP response, read into memory. */
export interface HttpExchangeResult {
  status: number;
  /** Lower-case names, as undici parses them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body was longer than `maxBodyBytes`: `body` holds its start, and the connection was closed. */
  truncated: boolean;
  /** With `decompress`: why the body could not be decoded (`body` then holds what was decoded before). */
  undecodable?: string;
}

export interface HttpExchangeOptions {
  timeoutMs: number;
  /** Aborts the exchange (rejecting with its reason), e.g. at shutdown. */
  signal?: AbortSignal;
  /** Read at most this much of the body (default: all of it); with `decompress`, counted after decoding. */
  maxBodyBytes?: number;
  /** Decode a body sent with Content-Encoding gzip, x-gzip, deflate or br (stacked too) as it streams. */
  decompress?: boolean;
}

/** Thrown (as the rejection) when the exchange took longer than its timeout. */
export class HttpExchangeTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

/**
 * One request and its whole response through an undici dispatcher (a Pool or an Agent), aborted after `timeoutMs`
 * (rejecting with HttpExchangeTimeout) or when `signal` aborts (rejecting with its reason).
 *
 * Why not `pool.request()`: that builds a readable stream, an async resource and a listener per request;
 * this handler reads the small answers of webhook traffic straight into a buffer, on a path where the exchange is
 * most of the cost.
 */
export function httpExchange(
  dispatcher: Dispatcher,
  request: Dispatcher.DispatchOptions,
  options: HttpExchangeOptions,
): Promise<HttpExchangeResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(options.signal.reason);
    dispatcher.dispatch(request, new ExchangeHandler(resolve, reject, options));
  });
}

/**
 * The content codings decoded, as undici's fetch does (Node 20's zlib has no zstd). Streaming, so that decoded bytes
 * are counted as they come and decoding stops at the cap: a small compressed body can expand a thousandfold.
 * (undici's decompress interceptor does this too, but it is experimental, prints a warning in the app, and reports
 * a corrupt body as a failed exchange, while the endpoint did answer.)
 */
const DECODERS = new Map<string, () => Transform>([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);
/** More stacked codings than this are refused, as curl and urllib3 do (a chain of decoders per response). */
const MAX_CODINGS = 5;

/** The headers of an exchange that ended before its response started (not an object per exchange). */
const NO_HEADERS: Record<string, string | string[] | undefined> = Object.freeze({});

class ExchangeHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private reason: Error | undefined;
  private settled = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = NO_HEADERS;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly maxBodyBytes: number;
  private readonly decompress: boolean;
  /** A compressed body's decoders: raw bytes go into the first, decoded ones come out of the last. */
  private decoders: Transform[] | undefined;
  private undecodable: string | undefined;
  /** Epoch ms after which the shared sweep aborts this exchange. */
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Its neighbours among the exchanges in flight (see watchDeadline), and whether it is among them. */
  prevInFlight: ExchangeHandler | undefined = undefined;
  nextInFlight: ExchangeHandler | undefined = undefined;
  inFlight = false;
  /** The exchanges waiting on its signal (see watchAbort), and its neighbours there. */
  signalWatch: SignalWatch | undefined = undefined;
  prevOnSignal: ExchangeHandler | undefined = undefined;
  nextOnSignal: ExchangeHandler | undefined = undefined;

  constructor(
    private readonly resolve: (result: HttpExchangeResult) => void,
    private readonly reject: (error: unknown) => void,
    { timeoutMs, signal, maxBodyBytes = Infinity, decompress = false }: HttpExchangeOptions,
  ) {
    this.maxBodyBytes = maxBodyBytes;
    this.decompress = decompress;
    this.timeoutMs = timeoutMs;
    this.deadline = Date.now() + timeoutMs;
    watchDeadline(this);
    if (signal) watchAbort(signal, this);
  }

  /** Stops the request (now, or as soon as undici starts it) and rejects with `reason`. */
  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = status;
    this.headers = headers;
    if (this.decompress && headers['content-encoding'] !== undefined) this.startDecoding(headers['content-encoding']);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.reason || this.settled) return;
    if (!this.decoders) return this.take(chunk);
    if (!this.decoders[0]!.write(chunk)) controller.pause(); // resumed on 'drain'
  }

  onResponseEnd(): void {
    if (this.decoders)
      this.decoders[0]!.end(); // settles when the last decoder ends
    else this.settle(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.stopWatching();
    for (const decoder of this.decoders ?? []) decoder.destroy();
    this.reject(this.reason ?? error);
  }

  private startDecoding(header: string | string[]): void {
    const listed = (Array.isArray(header) ? header.join(',') : header)
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '' && c !== 'identity');
    if (listed.length === 0) return;
    const unknown = listed.find((c) => !DECODERS.has(c));
    if (unknown !== undefined || listed.length > MAX_CODINGS) {
      // Bytes we cannot decode are not worth keeping: answer with the status and say why.
      this.undecodable =
        unknown !== undefined
          ? `the ${unknown} content coding is not decoded`
          : `${listed.length} stacked content codings (at most ${MAX_CODINGS} are decoded)`;
      return this.finish(false);
    }
    // Applied in the order listed, so decoded in reverse.
    const decoders = [...listed].reverse().map((c) => DECODERS.get(c)!());
    for (let i = 1; i < decoders.length; i++) decoders[i - 1]!.pipe(decoders[i]!);
    for (const decoder of decoders)
      decoder.on('error', (error: Error) => {
        this.undecodable = `the ${listed.join(', ')} body could not be decoded: ${error.message}`;
        this.finish(false);
      });
    decoders[0]!.on('drain', () => this.controller?.resume());
    const last = decoders[decoders.length - 1]!;
    last.on('data', (chunk: Buffer) => this.take(chunk));
    last.on('end', () => this.settle(false));
    this.decoders = decoders;
  }

  /** Keeps a chunk of the (decoded) body; past maxBodyBytes, the exchange ends with what it has. */
  private take(chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.maxBodyBytes) this.finish(true);
  }

  /** Resolves now with what was read, and stops reading and decoding. */
  private finish(truncated: boolean): void {
    this.settle(truncated);
    // The exchange has resolved already, so this reason is never seen; it only tells undici to stop.
    this.abort(new Error('the response body was read as far as it is wanted'));
  }

  private settle(truncated: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.stopWatching();
    for (const decoder of this.decoders ?? []) decoder.destroy();
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const result: HttpExchangeResult = {
      status: this.status,
      headers: this.headers,
      body: truncated ? body.subarray(0, this.maxBodyBytes) : body,
      truncated,
    };
    // Set only when there is one (a spread of a conditional object was a copy per exchange).
    if (this.undecodable !== undefined) result.undecodable = this.undecodable;
    this.resolve(result);
  }

  private stopWatching(): void {
    unwatchDeadline(this);
    unwatchAbort(this);
  }
}

/**
 * The exchanges in flight and one timer for all of them, armed for the earliest deadline: a timer per request
 * (set, then cleared when the answer comes) costs more. They are linked through their own fields: a list costs two
 * field writes per exchange, where a Set's add and delete cost more than the exchange's own handling.
 */
let firstInFlight: ExchangeHandler | undefined;
let sweepTimer: NodeJS.Timeout | undefined;
let sweepAt = Infinity;

function watchDeadline(exchange: ExchangeHandler): void {
  exchange.inFlight = true;
  exchange.nextInFlight = firstInFlight;
  if (firstInFlight) firstInFlight.prevInFlight = exchange;
  firstInFlight = exchange;
  if (exchange.deadline < sweepAt) armSweep(exchange.deadline);
}

function unwatchDeadline(exchange: ExchangeHandler): void {
  if (!exchange.inFlight) return;
  exchange.inFlight = false;
  const { prevInFlight: prev, nextInFlight: next } = exchange;
  if (prev) prev.nextInFlight = next;
  else firstInFlight = next;
  if (next) next.prevInFlight = prev;
  exchange.prevInFlight = exchange.nextInFlight = undefined;
  if (firstInFlight === undefined && sweepTimer) {
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
    sweepAt = Infinity;
  }
}

function armSweep(at: number): void {
  clearTimeout(sweepTimer);
  sweepAt = at;
  // Unref'd: the sockets of the exchanges in flight keep the process alive, not this timer.
  sweepTimer = setTimeout(sweep, Math.max(0, at - Date.now())).unref();
}

/** Aborts the exchanges past their deadline, and arms the timer for the next one. */
function sweep(): void {
  sweepTimer = undefined;
  sweepAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (let exchange = firstInFlight, after; exchange; exchange = after) {
    after = exchange.nextInFlight; // read first: aborting may unlink the exchange
    if (exchange.deadline <= now) {
      unwatchDeadline(exchange);
      exchange.abort(new HttpExchangeTimeout(exchange.timeoutMs));
    } else if (exchange.deadline < next) next = exchange.deadline;
  }
  if (next !== Infinity) armSweep(next);
}

/**
 * The exchanges waiting on each shared signal (the dispatcher's shutdown signal is passed to every send): one
 * 'abort' listener per signal, not an addEventListener/removeEventListener pair per request. They are linked
 * through their own fields, as above.
 */
interface SignalWatch {
  first: ExchangeHandler | undefined;
}
const watchers = new WeakMap<AbortSignal, SignalWatch>();

function watchAbort(shared: AbortSignal, exchange: ExchangeHandler): void {
  let watch = watchers.get(shared);
  if (!watch) {
    const created: SignalWatch = { first: undefined };
    watchers.set(shared, (watch = created));
    shared.addEventListener(
      'abort',
      () => {
        for (let each = created.first, after; each; each = after) {
          after = each.nextOnSignal; // read first: aborting may unlink it
          unwatchAbort(each);
          each.abort(shared.reason as Error);
        }
      },
      { once: true },
    );
  }
  exchange.signalWatch = watch;
  exchange.nextOnSignal = watch.first;
  if (watch.first) watch.first.prevOnSignal = exchange;
  watch.first = exchange;
}

function unwatchAbort(exchange: ExchangeHandler): void {
  const watch = exchange.signalWatch;
  if (!watch) return;
  exchange.signalWatch = undefined;
  const { prevOnSignal: prev, nextOnSignal: next } = exchange;
  if (prev) prev.nextOnSignal = next;
  else watch.first = next;
  if (next) next.prevOnSignal = prev;
  exchange.prevOnSignal = exchange.nextOnSignal = undefined;
}
