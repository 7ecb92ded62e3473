import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The built package as users load it: ESM import and CommonJS require() of `nestjs-convoy` and
 * `nestjs-convoy/testing`, resolved through package.json "exports" (npm test builds dist first).
 */
describe('dist smoke test', () => {
  const node = (args: string[]): string => execFileSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

  it('dist was built', () => {
    expect(existsSync('dist/index.js')).toBe(true);
    expect(existsSync('dist/index.d.ts')).toBe(true);
    expect(existsSync('dist/testing/index.js')).toBe(true);
    expect(existsSync('dist/receiver/index.js')).toBe(true);
  });

  it('imports as ESM', () => {
    const out = node(['--input-type=module', '-e', `
      import * as lib from 'nestjs-convoy';
      import * as testing from 'nestjs-convoy/testing';
      console.log(JSON.stringify([typeof lib.ConvoyModule.forRoot, typeof lib.ConvoyModule.forRootAsync, typeof lib.ConvoyClient,
        typeof lib.WebhookPublisher, typeof lib.EmitsWebhook, typeof lib.WebhookInterceptor, typeof lib.ConvoyError,
        typeof testing.RecordingTransport, typeof testing.ConvoyTestingModule.forRoot]));
    `]);
    expect(JSON.parse(out)).toEqual(Array(9).fill('function'));
  });

  it('nestjs-convoy/receiver exports what receiving apps need (guard, payload, verify and sign functions), not the client', () => {
    const out = node(['--input-type=module', '-e', `
      import * as receiver from 'nestjs-convoy/receiver';
      const sig = receiver.signConvoyPayload('{"a":1}', { secrets: ['s3cret-value'], advanced: true });
      const ok = receiver.verifyConvoySignature('{"a":1}', sig, { secret: 's3cret-value' });
      console.log(JSON.stringify([typeof receiver.VerifyConvoyWebhook, typeof receiver.WebhookPayload, ok.valid, 'ConvoyClient' in receiver, typeof receiver.verifyStandardWebhook]));
    `]);
    expect(JSON.parse(out)).toEqual(['function', 'function', true, false, 'function']);
  });

  it('nestjs-convoy/terminus exports the health indicator', () => {
    const out = node(['--input-type=module', '-e', `
      import * as terminus from 'nestjs-convoy/terminus';
      console.log(typeof terminus.WebhooksHealthIndicator);
    `]);
    expect(out.trim()).toBe('function');
  });

  it('loads with require() from CommonJS (Node >= 20.19)', () => {
    const out = node(['-e', `
      const lib = require('nestjs-convoy');
      const testing = require('nestjs-convoy/testing');
      console.log(JSON.stringify([typeof lib.ConvoyModule, typeof lib.ConvoyClient, typeof testing.RecordingTransport]));
    `]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function']);
  });

  it('a plain ConvoyClient works from the built code', () => {
    const out = node(['--input-type=module', '-e', `
      import { ConvoyClient, ConvoyConfigurationError } from 'nestjs-convoy';
      try { new ConvoyClient({ apiKey: 'CO.x' }); } catch (e) { console.log(e instanceof ConvoyConfigurationError, e.option); }
    `]);
    expect(out.trim()).toBe('true projectId');
  });
});
