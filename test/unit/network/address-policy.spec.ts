import { AddressPolicy, classifyAddress, type AddressCategory } from '../../../lib/network/address-policy.js';

/** The SSRF guard's address classes and the policy built on them. */
describe('classifyAddress', () => {
  const table: Array<[AddressCategory, string[]]> = [
    [
      'loopback',
      [
        '127.0.0.1',
        '127.255.255.254',
        '::1',
        '0:0:0:0:0:0:0:1',
        '::ffff:127.0.0.1', // IPv4-mapped, dotted
        '::ffff:7f00:1', // IPv4-mapped, as the WHATWG URL parser writes it
        '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
        '2002:7f00:1::', // 6to4 of 127.0.0.1
        '::127.0.0.1', // IPv4-compatible
        '[::1]', // bracketed, as in a URL host
      ],
    ],
    [
      'private',
      [
        '10.0.0.1',
        '10.255.255.255',
        '172.16.0.1',
        '172.31.255.255',
        '192.168.1.1',
        '::ffff:10.0.0.7',
        '::ffff:c0a8:101',
        '64:ff9b::a00:1',
        '2002:c0a8:101::1',
        '::10.1.2.3',
      ],
    ],
    [
      'link-local',
      [
        '169.254.0.1',
        '169.254.255.255',
        'fe80::1',
        'febf::1',
        'fe80::1%eth0',
        '::ffff:169.254.1.1',
        '64:ff9b::a9fe:101',
        '2002:a9fe:101::',
      ],
    ],
    ['cgnat', ['100.64.0.1', '100.127.255.255', '::ffff:100.64.0.1', '64:ff9b::6440:1']],
    ['unique-local', ['fc00::1', 'fd00::2', 'fdff:ffff::1', 'fd00:ec2::253']],
    [
      'metadata',
      [
        '169.254.169.254',
        '169.254.170.2',
        '169.254.170.23',
        '100.100.100.200',
        '192.0.0.192',
        '168.63.129.16',
        'fd00:ec2::254',
        'fd00:ec2:0:0:0:0:0:254',
        'fd00:ec2::23',
        '::ffff:169.254.169.254',
        '::ffff:a9fe:a9fe',
        '64:ff9b::a9fe:a9fe',
        '64:ff9b::169.254.169.254',
        '2002:a9fe:a9fe::',
        '::169.254.169.254',
      ],
    ],
    ['unspecified', ['0.0.0.0', '0.1.2.3', '::', '0:0:0:0:0:0:0:0', '::ffff:0.0.0.0', '64:ff9b::', '2002::', '::2']],
    ['multicast', ['224.0.0.1', '239.255.255.250', 'ff02::1', 'ff05::1:3', '::ffff:224.0.0.251', '64:ff9b::e000:1']],
    [
      'reserved',
      [
        '240.0.0.1',
        '255.255.255.255',
        '192.0.0.1',
        '192.0.0.170',
        '192.88.99.1',
        '::ffff:255.255.255.255',
        '::8.8.8.8', // IPv4-compatible with a public IPv4: deprecated, never routed
        '::ffff:0:808:808', // SIIT IPv4-translated
        '100::1', // discard-only
        '2001:10::1', // ORCHID
        '2001:1::1',
        'fec0::1', // deprecated site-local
        '4000::1', // unassigned
        '5f00::1',
      ],
    ],
    [
      'documentation',
      [
        '192.0.2.1',
        '198.51.100.7',
        '203.0.113.255',
        '2001:db8::1',
        '2001:db8:ffff::1',
        '3fff::1',
        '3fff:fff::1',
        '::ffff:192.0.2.1',
        '64:ff9b::c000:201',
      ],
    ],
    ['benchmarking', ['198.18.0.1', '198.19.255.255', '2001:2::1', '2001:2:0:ffff::1', '::ffff:198.18.0.1']],
    ['nat64', ['64:ff9b:1::1', '64:ff9b:1:ffff::a00:1']],
    ['teredo', ['2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2']],
    ['6to4', ['2002:808:808::1', '2002:101:101:1::1']], // 6to4 embedding a public IPv4
    [
      'public',
      [
        '8.8.8.8',
        '1.1.1.1',
        '9.255.255.255', // just below 10/8
        '11.0.0.0', // just above 10/8
        '100.63.255.255', // just below 100.64/10
        '100.128.0.0', // just above 100.64/10
        '172.15.255.255',
        '172.32.0.0',
        '169.253.255.255',
        '169.255.0.0',
        '192.167.255.255',
        '192.169.0.0',
        '198.17.255.255',
        '198.20.0.0',
        '223.255.255.255',
        '126.255.255.255',
        '128.0.0.0',
        '168.63.129.17',
        '2606:4700:4700::1111',
        '2a00:1450:4001:830::200e',
        '2001:4860:4860::8888',
        '2001:200::1', // first RIR allocation after 2001::/23
        '::ffff:8.8.8.8', // mapped public: how a dual-stack socket shows an IPv4 peer
        '::ffff:808:808',
        '64:ff9b::808:808', // DNS64 on an IPv6-only host synthesizes these for IPv4-only receivers
        '3fff:1000::1', // just after 3fff::/20
      ],
    ],
  ];

  describe.each(table)('%s', (category, addresses) => {
    it.each(addresses)('%s', (ip) => {
      expect(classifyAddress(ip)).toBe(category);
    });
  });

  it('classifies a 6to4 address by its embedded IPv4 unless that is public', () => {
    expect(classifyAddress('2002:c000:201::')).toBe('documentation');
    expect(classifyAddress('2002:0a00:0001:1::1')).toBe('private');
    expect(classifyAddress('2002:808:808::1')).toBe('6to4');
  });

  it('fails closed on anything that is not an IP literal', () => {
    for (const input of [
      '',
      'localhost',
      'example.com',
      '127.1',
      '0x7f000001',
      '2130706433',
      '010.0.0.1',
      '1.2.3.4.5',
      '256.0.0.1',
      '::g',
      '1::2::3',
      ' 8.8.8.8',
      '8.8.8.8 ',
      '[8.8.8.8]x',
      '8.8.8.8/32',
    ]) {
      expect(classifyAddress(input)).toBe('reserved');
    }
    expect(classifyAddress(undefined as unknown as string)).toBe('reserved');
  });
});

describe('AddressPolicy', () => {
  it('allows only public addresses by default, reporting address and category for the rest', () => {
    const policy = new AddressPolicy();
    expect(policy.check('8.8.8.8')).toBeUndefined();
    expect(policy.check('2606:4700:4700::1111')).toBeUndefined();
    expect(policy.check('::ffff:8.8.8.8')).toBeUndefined();
    expect(policy.check('127.0.0.1')).toEqual({ address: '127.0.0.1', category: 'loopback' });
    expect(policy.check('::ffff:7f00:1')).toEqual({ address: '::ffff:7f00:1', category: 'loopback' });
    expect(policy.check('10.0.0.7')).toEqual({ address: '10.0.0.7', category: 'private' });
    expect(policy.check('fd12::1')).toEqual({ address: 'fd12::1', category: 'unique-local' });
    expect(policy.check('100.64.1.1')).toEqual({ address: '100.64.1.1', category: 'cgnat' });
    expect(policy.check('2001::1')).toEqual({ address: '2001::1', category: 'teredo' });
    expect(policy.check('2002:808:808::1')).toEqual({ address: '2002:808:808::1', category: '6to4' });
  });

  it('lets allowPrivateNetworks through loopback, private, CGNAT and unique-local only', () => {
    const policy = new AddressPolicy({ allowPrivateNetworks: true });
    for (const ip of [
      '127.0.0.1',
      '::1',
      '::ffff:127.0.0.1',
      '10.0.0.1',
      '172.20.1.1',
      '192.168.0.10',
      '100.64.0.1',
      'fd00::2',
      '64:ff9b::a00:1',
      '8.8.8.8',
    ]) {
      expect([ip, policy.check(ip)]).toEqual([ip, undefined]);
    }
    const stillRefused: Array<[string, AddressCategory]> = [
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['64:ff9b::a9fe:a9fe', 'metadata'],
      ['fd00:ec2::254', 'metadata'], // inside fc00::/7, but metadata wins
      ['100.100.100.200', 'metadata'], // inside 100.64/10, but metadata wins
      ['192.0.0.192', 'metadata'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
      ['64:ff9b:1::1', 'nat64'],
      ['2001::1', 'teredo'],
    ];
    for (const [ip, category] of stillRefused) expect(policy.check(ip)).toEqual({ address: ip, category });
  });

  it('lets allowedAddresses override every category, and nothing else', () => {
    const policy = new AddressPolicy({
      allowedAddresses: ['127.0.0.0/8', '::1/128', '169.254.169.254', 'fd00:ec2::/64', '10.1.0.0/16'],
    });
    for (const ip of ['127.0.0.1', '127.9.9.9', '::1', '169.254.169.254', 'fd00:ec2::254', '10.1.255.1'])
      expect(policy.check(ip)).toBeUndefined();
    expect(policy.check('10.2.0.1')).toEqual({ address: '10.2.0.1', category: 'private' });
    expect(policy.check('169.254.170.2')).toEqual({ address: '169.254.170.2', category: 'metadata' });
    expect(policy.check('::2')).toEqual({ address: '::2', category: 'unspecified' });
    expect(policy.check('192.168.0.1')).toEqual({ address: '192.168.0.1', category: 'private' });
  });

  it('matches an IPv4 allow-list entry against the IPv4-mapped form and vice versa, but not other embeddings', () => {
    const v4 = new AddressPolicy({ allowedAddresses: ['127.0.0.0/8'] });
    expect(v4.check('::ffff:127.0.0.1')).toBeUndefined();
    expect(v4.check('::ffff:7f00:2')).toBeUndefined();
    expect(v4.check('::1')).toEqual({ address: '::1', category: 'loopback' });
    // A NAT64 gateway or 6to4 relay reaches a different host than our own 127.0.0.1.
    expect(v4.check('64:ff9b::7f00:1')).toEqual({ address: '64:ff9b::7f00:1', category: 'loopback' });
    expect(v4.check('2002:7f00:1::')).toEqual({ address: '2002:7f00:1::', category: 'loopback' });

    const mapped = new AddressPolicy({ allowedAddresses: ['::ffff:10.0.0.0/104'] });
    expect(mapped.check('10.9.9.9')).toBeUndefined();
    expect(mapped.check('11.0.0.1')).toBeUndefined(); // public anyway
    expect(mapped.check('192.168.0.1')).toEqual({ address: '192.168.0.1', category: 'private' });
  });

  it('accepts CIDRs with host bits set and prefix lengths 0 and the maximum', () => {
    expect(new AddressPolicy({ allowedAddresses: ['10.1.2.3/8'] }).check('10.200.0.1')).toBeUndefined();
    expect(new AddressPolicy({ allowedAddresses: ['0.0.0.0/0'] }).check('169.254.169.254')).toBeUndefined();
    expect(new AddressPolicy({ allowedAddresses: ['0.0.0.0/0'] }).check('fe80::1')).toEqual({
      address: 'fe80::1',
      category: 'link-local',
    });
    expect(new AddressPolicy({ allowedAddresses: ['::/0'] }).check('fe80::1')).toBeUndefined();
    const host = new AddressPolicy({ allowedAddresses: ['10.0.0.7/32', 'fe80::1/128'] });
    expect(host.check('10.0.0.7')).toBeUndefined();
    expect(host.check('10.0.0.8')).toEqual({ address: '10.0.0.8', category: 'private' });
    expect(host.check('fe80::1%eth0')).toBeUndefined(); // the zone id does not change the address
    expect(host.check('fe80::2')).toEqual({ address: 'fe80::2', category: 'link-local' });
  });

  it.each([
    ['localhost', /allowedAddresses\[0\] \("localhost"\) is not an IPv4 or IPv6 address or CIDR/],
    ['10.0.0.0/33', /allowedAddresses\[0\] \("10.0.0.0\/33"\) has an invalid prefix length \(0 to 32 for IPv4\)/],
    ['::1/129', /invalid prefix length \(0 to 128 for IPv6\)/],
    ['10.0.0.0/', /invalid prefix length/],
    ['10.0.0.0/8/8', /invalid prefix length/],
    ['10.0.0.0/-1', /invalid prefix length/],
    ['10.0.0.0/ 8', /invalid prefix length/],
    ['10.0.0.0/0x8', /invalid prefix length/],
    ['10.0.0/8', /not an IPv4 or IPv6 address/],
    ['010.0.0.0/8', /not an IPv4 or IPv6 address/],
    ['[::1]', /not an IPv4 or IPv6 address/],
    ['fe80::1%eth0', /zone id/],
    ['', /not an IPv4 or IPv6 address/],
    [' 10.0.0.0/8', /not an IPv4 or IPv6 address/],
  ])('refuses the allow-list entry %j up front with a TypeError naming it', (entry, message) => {
    expect(() => new AddressPolicy({ allowedAddresses: [entry] })).toThrow(TypeError);
    expect(() => new AddressPolicy({ allowedAddresses: [entry] })).toThrow(message);
  });

  it('names the index of a bad entry and refuses non-string entries and options of the wrong type', () => {
    expect(() => new AddressPolicy({ allowedAddresses: ['127.0.0.0/8', 'nope'] })).toThrow(
      /allowedAddresses\[1\] \("nope"\)/,
    );
    expect(() => new AddressPolicy({ allowedAddresses: [42 as unknown as string] })).toThrow(
      /allowedAddresses\[0\] \(number\) is not a string/,
    );
    expect(() => new AddressPolicy({ allowedAddresses: '127.0.0.1' as unknown as string[] })).toThrow(TypeError);
    expect(() => new AddressPolicy({ allowPrivateNetworks: 'yes' as unknown as boolean })).toThrow(TypeError);
  });

  it('fails closed on input that is not an IP, even with a permissive policy', () => {
    const policy = new AddressPolicy({ allowPrivateNetworks: true, allowedAddresses: ['0.0.0.0/0', '::/0'] });
    for (const input of ['', 'localhost', 'example.com', '2130706433', '127.1', '1.2.3', 'x'.repeat(300)]) {
      const refusal = policy.check(input);
      expect(refusal?.category).toBe('reserved');
      expect(refusal!.address.length).toBeLessThanOrEqual(100);
    }
    expect(policy.check(null as unknown as string)).toEqual({ address: 'null', category: 'reserved' });
  });
});
