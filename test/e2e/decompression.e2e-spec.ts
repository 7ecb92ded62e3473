import v8 from 'node:v8';
import vm from 'node:vm';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Harness, onlyDeliveryOf, waitForStatus, type RunningApp } from '../support/embedded-app.js';

/**
 * A compressed response is decoded as it streams and counted after decoding (issue 12, item 1): a small body that
 * expands to megabytes is cut at maxResponseBytes, never held whole, and a body that cannot be decoded still records
 * the endpoint's answer, with a note.
 */

const h = new Harness();
afterEach(() => h.cleanup());

/** 8 MB of one letter: about 8 KB gzipped or deflated, a few hundred bytes in brotli. */
const EXPANDED = Buffer.alloc(8 * 1024 * 1024, 'a');
const BOMBS = {
  gzip: gzipSync(EXPANDED, { level: 9 }),
  deflate: deflateSync(EXPANDED, { level: 9 }),
  br: brotliCompressSync(EXPANDED),
  // Applied gzip first, then br: decoded br first.
  'gzip, br': brotliCompressSync(gzipSync(EXPANDED, { level: 9 })),
};

/** The collector, callable without --expose-gc (so that memory is measured after collection). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function attemptOf(app: RunningApp, endpointId: string) {
  const receipt = await app.publisher.publish('todo.created', { n: 1 }, { endpointId });
  const delivery = await onlyDeliveryOf(app, receipt);
  await waitForStatus(app.deliveries, delivery.uid, ['Success', 'Failure']);
  const [attempt] = await app.deliveries.attempts(delivery.uid);
  return attempt!;
}

describe('embedded engine: compressed responses', () => {
  it.each(Object.entries(BOMBS))(
    'a %s bomb (8 MB decoded) is kept only up to maxResponseBytes, and the delivery succeeds',
    async (encoding, body) => {
      expect(body.length).toBeLessThan(16_384);
      const receiver = await h.receiver(() => ({ body, headers: { 'content-encoding': encoding } }));
      const app = await h.embedded({ maxResponseBytes: 4_096 });
      const endpoint = await app.endpoints.create({ name: encoding, url: `${receiver.url}/hook` });
      const attempt = await attemptOf(app, endpoint.uid);
      expect(attempt.succeeded).toBe(true);
      expect(attempt.response_data).toBe('a'.repeat(4_096));
    },
  );

  it('a small compressed body is decoded whole (gzip, x-gzip, deflate, br, and "gzip, br")', async () => {
    const text = '{"received":true,"note":"é"}';
    const bodies: Record<string, Buffer> = {
      gzip: gzipSync(text),
      'x-gzip': gzipSync(text),
      deflate: deflateSync(text),
      br: brotliCompressSync(text),
      'gzip, br': brotliCompressSync(gzipSync(text)),
    };
    const receiver = await h.receiver((r) => {
      const encoding = decodeURIComponent(r.path.slice(1));
      return { body: bodies[encoding], headers: { 'content-encoding': encoding } };
    });
    const app = await h.embedded();
    for (const encoding of Object.keys(bodies)) {
      const endpoint = await app.endpoints.create({
        name: encoding,
        url: `${receiver.url}/${encodeURIComponent(encoding)}`,
      });
      expect([encoding, (await attemptOf(app, endpoint.uid)).response_data]).toEqual([encoding, text]);
    }
  });

  it('memory stays bounded over 100 deliveries answered with a gzip bomb (4 MB decoded, 4 KB compressed)', async () => {
    const bomb = gzipSync(Buffer.alloc(4_000_000, 'a'), { level: 9 });
    const receiver = await h.receiver(() => ({ body: bomb, headers: { 'content-encoding': 'gzip' } }));
    const app = await h.embedded();
    const endpoint = await app.endpoints.create({ name: 'bomb', url: `${receiver.url}/hook` });
    // Warm up first (pools, compiled code), so that what grows afterwards is what the deliveries keep.
    await attemptOf(app, endpoint.uid);
    gc();
    const before = process.memoryUsage().rss;
    const kept = new Set<number>();
    for (let i = 0; i < 100; i++) kept.add((await attemptOf(app, endpoint.uid)).response_data.length);
    gc();
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024;
    // The log keeps 4 KB per attempt. Decoded whole, the bodies grew RSS by about 400 MB.
    expect(grownMb).toBeLessThan(50);
    expect([...kept]).toEqual([4_096]);
  });

  it.each([
    [
      'a truncated gzip body',
      'gzip',
      gzipSync('{"received":true}').subarray(0, 20),
      /gzip body could not be decoded: unexpected end/,
    ],
    ['a corrupt br body', 'br', Buffer.from('this is not brotli at all'), /br body could not be decoded/],
    ['a deflate body that is gzip', 'deflate', gzipSync('{}'), /deflate body could not be decoded: incorrect header/],
    ['an encoding that is not decoded', 'zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), /zstd content coding is not/],
    ['six stacked codings', 'gzip, gzip, gzip, gzip, gzip, gzip', gzipSync('{}'), /6 stacked content codings/],
  ])(
    '%s: the answer is recorded (200, success) with a note instead of the body',
    async (_what, encoding, body, note) => {
      const receiver = await h.receiver(() => ({ body, headers: { 'content-encoding': encoding } }));
      const app = await h.embedded();
      const endpoint = await app.endpoints.create({ name: 'corrupt', url: `${receiver.url}/hook` });
      const attempt = await attemptOf(app, endpoint.uid);
      expect(attempt).toMatchObject({ succeeded: true, http_status: '200 OK' });
      expect(attempt.response_data).toMatch(/^\(response body not kept: /);
      expect(attempt.response_data).toMatch(note);
    },
  );
});
