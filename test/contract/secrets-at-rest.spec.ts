import { randomBytes } from 'node:crypto';
import { ConvoyConfigurationError, SecretDecryptionError } from '../../lib/errors/index.js';
import { quoteSchema } from '../../lib/storage/sql/migrations.js';
import { SqlConvoyStorage } from '../../lib/storage/sql/sql-storage.js';
import type { SecretKey } from '../../lib/storage/sql/secret-cipher.js';
import { sqlBackends, type Backend } from './backends.js';
import { delivery, endpoint } from './store.contract.js';

/**
 * Secrets at rest on the SQL stores (PGlite, PostgreSQL), read back with direct SQL: with `secretKeys`, endpoint
 * secrets, API-key header values and `{ url, secret }` targets are stored sealed (AES-256-GCM), never in clear;
 * rotation keeps old values readable, re-encryption moves them to the current key; a missing key or a changed
 * value is refused with SecretDecryptionError; bad key material stops startup without being quoted.
 */
const backends = sqlBackends('secrets-at-rest');

const key = (id: string): SecretKey => ({ id, key: randomBytes(32).toString('base64') });
const K1 = key('k1');
const K2 = key('k2');
const ENDPOINT_SECRET = 'endpoint-secret-4f1c9a';
const HEADER_VALUE = 'api-key-value-77d2';
const TARGET_SECRET = 'dynamic-secret-e05b3';

for (const { name, open, skip } of backends) {
  const suite = skip ? describe.skip : describe;
  if (skip) console.info(`[secrets] ${name}: ${skip}`);

  suite(`secrets at rest on ${name}`, () => {
    let backend: Backend;
    let primary: SqlConvoyStorage;
    beforeAll(async () => {
      backend = await open();
      primary = (await backend.contextWith!((s) => s)).store;
    });
    afterEach(() => backend.reset());
    afterAll(() => backend?.close());

    /** Another storage on the same database and schema, with these keys. */
    const withKeys = (secretKeys?: SecretKey[]) =>
      new SqlConvoyStorage(primary.db, { schema: primary.schema, secretKeys });
    const raw = async (): Promise<string> => {
      const s = quoteSchema(primary.schema);
      const endpoints = await primary.db.query(
        `SELECT secrets::text AS a, api_key_header::text AS b FROM ${s}.endpoints`,
      );
      const deliveries = await primary.db.query(`SELECT target::text AS a FROM ${s}.deliveries`);
      return JSON.stringify([...endpoints.rows, ...deliveries.rows]);
    };
    const stored = async (storage: SqlConvoyStorage, n: number) => {
      await storage.store.insertEndpoint(
        endpoint(`ep_${n}`, {
          secrets: [{ uid: `sec_${n}`, value: ENDPOINT_SECRET, expires_at: null, created_at: 1 }],
          api_key_header: { name: 'X-Api-Key', value: HEADER_VALUE },
        }),
      );
      await storage.store.enqueue([
        {
          deliveries: [
            delivery(`ho_${n}`, `ho_${n}`, null, { target: { url: 'https://example.com/h', secret: TARGET_SECRET } }),
          ],
        },
      ]);
    };
    const readBack = async (storage: SqlConvoyStorage, n: number) => {
      const e = await storage.store.getEndpoint(`ep_${n}`);
      const d = await storage.store.getDelivery(`ho_${n}`);
      return { secret: e?.secrets[0]?.value, header: e?.api_key_header?.value, target: d?.target };
    };
    const plainRecords = {
      secret: ENDPOINT_SECRET,
      header: HEADER_VALUE,
      target: { url: 'https://example.com/h', secret: TARGET_SECRET },
    };

    it('with a key, the columns hold no secret in clear, and every read returns it', async () => {
      const storage = withKeys([K1]);
      await stored(storage, 1);
      await stored(storage, 2);
      const columns = await raw();
      for (const secret of [ENDPOINT_SECRET, HEADER_VALUE, TARGET_SECRET]) expect(columns).not.toContain(secret);
      expect(columns.match(/enc:v1:k1:/g)).toHaveLength(6);
      // A fresh IV per value: the same secret is sealed differently each time.
      expect(new Set(columns.match(/enc:v1:k1:[^"\\]+/g)).size).toBe(6);
      expect(await readBack(storage, 1)).toEqual(plainRecords);
      expect((await storage.store.allEndpoints()).map((e) => e.secrets[0]!.value)).toEqual([
        ENDPOINT_SECRET,
        ENDPOINT_SECRET,
      ]);
      const claimed = await storage.store.claim(Date.now() + 10 ** 12, 10, 'lease', Date.now() + 60_000);
      expect(claimed.map((d) => d.target)).toEqual([plainRecords.target, plainRecords.target]);
    });

    it('rotation: k1 writes; k2 added as current still reads k1; reencryptSecrets moves all to k2; k1 can go', async () => {
      await stored(withKeys([K1]), 1);
      const rotated = withKeys([K2, K1]);
      expect(await readBack(rotated, 1)).toEqual(plainRecords);
      await stored(rotated, 2); // written under k2
      expect((await raw()).match(/enc:v1:k2:/g)).toHaveLength(3);

      expect(await rotated.reencryptSecrets()).toEqual({ endpoints: 1, deliveries: 1 });
      const columns = await raw();
      expect(columns).not.toContain('enc:v1:k1:');
      expect(columns.match(/enc:v1:k2:/g)).toHaveLength(6);
      expect(await rotated.reencryptSecrets()).toEqual({ endpoints: 0, deliveries: 0 });

      const k2Only = withKeys([K2]);
      expect(await readBack(k2Only, 1)).toEqual(plainRecords);
      expect(await readBack(k2Only, 2)).toEqual(plainRecords);
    });

    it('secrets stored in clear before a key was configured stay readable, and reencryptSecrets seals them', async () => {
      await stored(withKeys(undefined), 1);
      expect(await raw()).toContain(ENDPOINT_SECRET);
      const keyed = withKeys([K1]);
      expect(await readBack(keyed, 1)).toEqual(plainRecords);
      expect(await keyed.reencryptSecrets()).toEqual({ endpoints: 1, deliveries: 1 });
      const columns = await raw();
      for (const secret of [ENDPOINT_SECRET, HEADER_VALUE, TARGET_SECRET]) expect(columns).not.toContain(secret);
      expect(await readBack(keyed, 1)).toEqual(plainRecords);
    });

    it('opening the storage without a key that stored secrets need fails at startup, naming the key id', async () => {
      await stored(withKeys([K1]), 1);
      const open = (secretKeys?: SecretKey[]) =>
        SqlConvoyStorage.open(primary.db, { schema: primary.schema, secretKeys }).then(
          () => 'opened',
          (e: unknown) => e,
        );
      for (const keys of [[K2], undefined]) {
        const error = await open(keys);
        expect(error).toBeInstanceOf(ConvoyConfigurationError);
        expect(error).toMatchObject({ option: 'storage.secretKeys' });
        expect((error as Error).message).toContain('"k1"');
        for (const k of [K1.key, K2.key]) expect((error as Error).message).not.toContain(k);
      }
      expect(await open([K2, K1])).toBe('opened');
      // Once every secret is off k1, k1 can go.
      await withKeys([K2, K1]).reencryptSecrets();
      expect(await open([K2])).toBe('opened');
    });

    it('a missing key is a SecretDecryptionError naming its id (never a key); a changed value is refused', async () => {
      await stored(withKeys([K1]), 1);
      for (const storage of [withKeys([K2]), withKeys(undefined)]) {
        const error = await storage.store.getEndpoint('ep_1').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SecretDecryptionError);
        expect(error).toMatchObject({ keyId: 'k1', reason: 'unknown-key' });
        expect((error as Error).message).toContain('"k1"');
        for (const k of [K1.key, K2.key]) expect((error as Error).message).not.toContain(k);
        await expect(storage.store.getDelivery('ho_1')).rejects.toMatchObject({ keyId: 'k1' });
      }

      // One character of the ciphertext changed in the database.
      const s = quoteSchema(primary.schema);
      const { rows } = await primary.db.query<{ target: { secret: string } | string }>(
        `SELECT target FROM ${s}.deliveries WHERE uid = 'ho_1'`,
      );
      const target =
        typeof rows[0]!.target === 'string' ? (JSON.parse(rows[0]!.target) as { secret: string }) : rows[0]!.target;
      const sealed = target.secret;
      const last = sealed.at(-2) === 'A' ? 'B' : 'A';
      const changed = `${sealed.slice(0, -2)}${last}${sealed.slice(-1)}`;
      await primary.db.query(`UPDATE ${s}.deliveries SET target = $1::jsonb WHERE uid = 'ho_1'`, [
        JSON.stringify({ ...target, secret: changed }),
      ]);
      await expect(withKeys([K1]).store.getDelivery('ho_1')).rejects.toMatchObject({
        name: 'SecretDecryptionError',
        keyId: 'k1',
        reason: 'tampered',
      });
      // Another key id written into the value does not make it readable under that key either.
      await primary.db.query(`UPDATE ${s}.deliveries SET target = $1::jsonb WHERE uid = 'ho_1'`, [
        JSON.stringify({ ...target, secret: sealed.replace('enc:v1:k1:', 'enc:v1:k2:') }),
      ]);
      await expect(withKeys([K1, K2]).store.getDelivery('ho_1')).rejects.toMatchObject({
        keyId: 'k2',
        reason: 'tampered',
      });
    });
  });
}

describe('secretKeys validation', () => {
  const hex = randomBytes(32).toString('hex');
  const b64url = randomBytes(32).toString('base64url');
  const db = {
    query: () => Promise.reject(new Error('not reached')),
    transaction: () => Promise.reject(new Error('not reached')),
    close: async () => {},
  };

  it.each([
    ['an empty list', [], 'storage.secretKeys'],
    ['a key of 16 bytes', [{ id: 'k1', key: randomBytes(16).toString('base64') }], 'storage.secretKeys[0].key'],
    ['a key that is no base64 or hex', [{ id: 'k1', key: `${hex.slice(0, 63)}z` }], 'storage.secretKeys[0].key'],
    ['a missing id', [{ key: hex }], 'storage.secretKeys[0].id'],
    ['an id with a colon', [{ id: 'k:1', key: hex }], 'storage.secretKeys[0].id'],
    [
      'the same id twice',
      [
        { id: 'k1', key: hex },
        { id: 'k1', key: b64url },
      ],
      'storage.secretKeys[1].id',
    ],
  ])('refuses %s at startup with ConvoyConfigurationError, never quoting a key', async (_, secretKeys, option) => {
    const error = await SqlConvoyStorage.open(db, { secretKeys: secretKeys as SecretKey[] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvoyConfigurationError);
    expect(error).toMatchObject({ option });
    for (const k of secretKeys as Array<{ key?: string }>)
      if (k.key) expect((error as Error).message).not.toContain(k.key);
  });

  it('accepts 32 bytes as hex, base64 and base64url', () => {
    expect(
      () =>
        new SqlConvoyStorage(db, {
          secretKeys: [
            { id: 'hex', key: hex },
            { id: 'b64', key: randomBytes(32).toString('base64') },
            { id: 'b64url', key: b64url },
          ],
        }),
    ).not.toThrow();
  });
});
