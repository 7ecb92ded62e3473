import { DestinationBlockedError } from '../../../lib/errors/destination.errors.js';
import { AddressPolicy, NEVER_ROUTABLE } from '../../../lib/network/address-policy.js';
import { checkDestinationWithoutDns, createGuardedAgent } from '../../../lib/network/destination.js';

function refusal(url: string, policy: Pick<AddressPolicy, 'check'>): string | undefined {
  try {
    checkDestinationWithoutDns(url, policy);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DestinationBlockedError);
    return (error as DestinationBlockedError).category;
  }
}

describe('checkDestinationWithoutDns', () => {
  const strict = new AddressPolicy();

  it('refuses IP literals the policy refuses, in every spelling the URL parser accepts', () => {
    expect(refusal('http://169.254.169.254/latest', strict)).toBe('metadata');
    expect(refusal('http://0xa9fea9fe/', strict)).toBe('metadata');
    expect(refusal('http://[::ffff:a9fe:a9fe]/', strict)).toBe('metadata');
    expect(refusal('http://10.1.2.3/', strict)).toBe('private');
    expect(refusal('http://[::1]:8080/', strict)).toBe('loopback');
    expect(refusal('http://8.8.8.8/', strict)).toBeUndefined();
  });

  it('answers localhost itself: refused unless the policy allows one of its addresses', () => {
    expect(refusal('http://localhost:3000/', strict)).toBe('loopback');
    expect(refusal('http://api.localhost./', strict)).toBe('loopback');
    expect(refusal('http://localhost:3000/', new AddressPolicy({ allowedAddresses: ['::1/128'] }))).toBeUndefined();
  });

  it('leaves names to the check at send time (no DNS here)', () => {
    expect(refusal('http://metadata.google.internal/', strict)).toBeUndefined();
  });

  it('for Convoy, refuses only what no webhook is meant for: metadata, link-local, unspecified, multicast', () => {
    expect(refusal('http://169.254.170.2/v2/credentials', NEVER_ROUTABLE)).toBe('metadata');
    expect(refusal('http://[fd00:ec2::254]/', NEVER_ROUTABLE)).toBe('metadata');
    expect(refusal('http://169.254.1.1/', NEVER_ROUTABLE)).toBe('link-local');
    expect(refusal('http://[fe80::1]/', NEVER_ROUTABLE)).toBe('link-local');
    expect(refusal('http://0.0.0.0/', NEVER_ROUTABLE)).toBe('unspecified');
    expect(refusal('http://224.0.0.1/', NEVER_ROUTABLE)).toBe('multicast');
    for (const allowed of ['http://10.0.0.1/', 'http://127.0.0.1:5005/', 'http://localhost/', 'https://example.com/'])
      expect(refusal(allowed, NEVER_ROUTABLE)).toBeUndefined();
  });
});

describe('createGuardedAgent', () => {
  it('refuses the renamed timeouts by name, rather than leaving them at undici defaults', () => {
    const policy = new AddressPolicy();
    expect(() => createGuardedAgent(policy, { keepAliveTimeout: 30_000 } as never)).toThrow(
      'createGuardedAgent: options.keepAliveTimeout is now keepAliveTimeoutMs',
    );
    expect(() => createGuardedAgent(policy, { connectTimeout: 2_000 } as never)).toThrow(/connectTimeoutMs/);
  });
});
