import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConvoyConfigurationError } from '../../errors/configuration.error.js';
import { SecretDecryptionError } from '../../errors/outbox.errors.js';
import { describeValue } from '../../utils/describe-value.js';

/** One key for secrets at rest: an id stored with every value it encrypts, and 32 bytes in base64 or hex. */
export interface SecretKey {
  /** Letters, digits, `_` or `-`, at most 32: written into each encrypted value, so a reader picks the key. */
  id: string;
  /** 32 random bytes as base64 (44 characters, or 43 without `=`; base64url too) or hex (64 characters). */
  key: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
/** `enc:v1:<keyId>:<iv>:<tag>:<ciphertext>`, base64url: a 12-byte IV (16 characters), a 16-byte tag (22). */
const SEALED = /^enc:v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]*)$/;
/** Decrypted values kept (by their stored text, which never changes): reads of endpoints repeat on every attempt. */
const CACHE_SIZE = 10_000;
const KEY_FIX =
  "give 32 random bytes in base64 or hex, e.g. from `node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64'))\"`";

/**
 * AES-256-GCM for the secrets the SQL store keeps (endpoint signing secrets, endpoints' API-key header values,
 * `{ url, secret }` targets): a random 12-byte IV per value, the key id bound as associated data. The first key
 * encrypts; every key decrypts, so values written under an older key stay readable until re-encrypted. A value not
 * in the sealed format is plain text (written before a key was configured) and is read as it is.
 */
export class SecretCipher {
  private readonly cache = new Map<string, string>();

  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    /** The id of the key new values are written with. */
    readonly currentId: string,
  ) {}

  /**
   * Validates the storage option `secretKeys` (a non-empty list, unique ids, 32-byte keys), or returns undefined when
   * it is not given. Errors name the entry, never its key.
   */
  static from(value: unknown, path = 'storage.secretKeys'): SecretCipher | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length === 0)
      throw new ConvoyConfigurationError(
        path,
        `expected a non-empty array of { id, key }, got ${Array.isArray(value) ? 'an empty array' : describeValue(value)}`,
        'pass [{ id: "k1", key: <32 bytes in base64 or hex> }]; the first key encrypts, all of them decrypt',
      );
    const keys = new Map<string, Buffer>();
    value.forEach((entry: unknown, i) => {
      const at = `${path}[${i}]`;
      const { id, key } = (entry ?? {}) as Partial<SecretKey>;
      if (typeof id !== 'string' || !KEY_ID.test(id))
        throw new ConvoyConfigurationError(
          `${at}.id`,
          typeof id === 'string' ? `"${id}" is not a valid key id` : `expected a string, got ${describeValue(id)}`,
          'use letters, digits, "_" or "-" (at most 32), e.g. "2026-12"',
        );
      if (keys.has(id))
        throw new ConvoyConfigurationError(`${at}.id`, `"${id}" is used twice`, 'give every key its own id');
      const bytes =
        typeof key !== 'string'
          ? undefined
          : HEX_KEY.test(key)
            ? Buffer.from(key, 'hex')
            : BASE64_KEY.test(key)
              ? Buffer.from(key, key.includes('-') || key.includes('_') ? 'base64url' : 'base64')
              : undefined;
      if (bytes?.length !== 32)
        throw new ConvoyConfigurationError(
          `${at}.key`,
          typeof key === 'string'
            ? `is not 32 bytes in base64 or hex (${key.length} characters)`
            : `expected a string, got ${describeValue(key)}`,
          KEY_FIX,
        );
      keys.set(id, bytes);
    });
    return new SecretCipher(keys, (value[0] as SecretKey).id);
  }

  /** The value sealed under the current key (a new IV each time). */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(aad(this.currentId));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const sealed = `enc:v1:${this.currentId}:${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${data.toString('base64url')}`;
    this.remember(sealed, plain);
    return sealed;
  }

  /** The plain value; a value that is not sealed is returned as it is. Throws SecretDecryptionError. */
  decrypt(stored: string): string {
    const known = this.cache.get(stored);
    if (known !== undefined) return known;
    const plain = SecretCipher.open(stored, this.keys);
    if (plain !== stored) this.remember(stored, plain);
    return plain;
  }

  /** Whether values sealed under this key id can be read. */
  hasKey(id: string): boolean {
    return this.keys.has(id);
  }

  /** Whether the value is sealed under the current key (reencryptSecrets() leaves it alone). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`enc:v1:${this.currentId}:`) && SEALED.test(stored);
  }

  /**
   * Opens a sealed value with `keys` (none: every sealed value names a missing key); a value that is not sealed is
   * plain text, returned as it is.
   */
  static open(stored: string, keys: ReadonlyMap<string, Buffer> = new Map()): string {
    const parts = SEALED.exec(stored);
    if (!parts) return stored;
    const [, keyId, iv, tag, data] = parts as unknown as [string, string, string, string, string];
    const key = keys.get(keyId);
    if (!key) throw new SecretDecryptionError(keyId, 'unknown-key', [...keys.keys()]);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad(keyId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(keyId, 'tampered', [...keys.keys()]);
    }
  }

  private remember(sealed: string, plain: string): void {
    if (this.cache.size >= CACHE_SIZE) this.cache.clear();
    this.cache.set(sealed, plain);
  }
}

const aad = (keyId: string): Buffer => Buffer.from(`nestjs-convoy:secret:v1:${keyId}`);
