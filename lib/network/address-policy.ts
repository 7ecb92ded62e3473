import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * What kind of address an IP literal is, for the SSRF guard. Only `public` is deliverable by default.
 *
 * - `loopback`: 127.0.0.0/8, ::1. Allowed by `allowPrivateNetworks`.
 * - `private`: RFC 1918 (10/8, 172.16/12, 192.168/16). Allowed by `allowPrivateNetworks`.
 * - `cgnat`: shared address space 100.64.0.0/10 (RFC 6598; carrier NAT, also Tailscale). Allowed by `allowPrivateNetworks`.
 * - `unique-local`: IPv6 ULA fc00::/7 (RFC 4193), the IPv6 counterpart of RFC 1918. Allowed by `allowPrivateNetworks`.
 * - `link-local`: 169.254.0.0/16, fe80::/10. Never allowed by `allowPrivateNetworks` (cloud metadata lives there).
 * - `metadata`: cloud instance-metadata and credential services, reported as such even though they sit inside other
 *   ranges: 169.254.169.254 (AWS, GCP, Azure, OpenStack…), 169.254.170.2 (ECS task credentials), 169.254.170.23 and
 *   fd00:ec2::23 (EKS Pod Identity), 100.100.100.200 (Alibaba), 192.0.0.192 (Oracle), fd00:ec2::254 (AWS IPv6),
 *   168.63.129.16 (Azure WireServer; a Microsoft-owned address that only ever reaches the host platform).
 *   Never allowed by `allowPrivateNetworks`.
 * - `unspecified`: 0.0.0.0/8 ("this network"; Linux connects 0.0.0.0 to the local host) and ::.
 * - `multicast`: 224.0.0.0/4, ff00::/8.
 * - `reserved`: anything not routable on the public Internet and not covered above: 240.0.0.0/4 (incl. the limited
 *   broadcast 255.255.255.255), 192.0.0.0/24 (IETF protocol assignments), 192.88.99.0/24 (deprecated 6to4 relay
 *   anycast), IPv6 outside 2000::/3 that has no other class (e.g. 100::/64 discard, fec0::/10 deprecated site-local,
 *   unassigned space), 2001::/23 IETF assignments without a class of their own, IPv4-compatible ::a.b.c.d addresses
 *   embedding a public IPv4 (deprecated, never routed), and any input that is not a valid IP address (fail closed).
 * - `documentation`: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20 (RFC 9637).
 * - `benchmarking`: 198.18.0.0/15, 2001:2::/48.
 * - `nat64`: the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215), whose IPv4 embedding is site-specific and so cannot
 *   be checked. The well-known prefix 64:ff9b::/96 is NOT this class: it inherits the class of the embedded IPv4
 *   (public included, because DNS64 on IPv6-only hosts synthesizes such addresses for ordinary IPv4-only receivers).
 * - `teredo`: 2001::/32 (RFC 4380), a tunnel that can reach arbitrary IPv4 hosts; always refused.
 * - `6to4`: 2002::/16 (RFC 3056, deprecated by RFC 7526) embedding a public IPv4. A 6to4 address embedding a
 *   non-public IPv4 inherits that class instead (2002:7f00:1:: is `loopback`).
 * - `public`: globally routable unicast.
 *
 * IPv4-mapped (::ffff:a.b.c.d, also written ::ffff:7f00:1), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
 * addresses inherit the class of the IPv4 address they embed when that class is not `public`.
 */
export type AddressCategory =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'nat64'
  | 'teredo'
  | '6to4'
  | 'public';

/** Options of {@link AddressPolicy}. */
export interface AddressPolicyOptions {
  /**
   * Let `loopback`, `private`, `cgnat` and `unique-local` addresses through (for development and private deployments).
   * Never lets `link-local` or `metadata` through: use `allowedAddresses` for that, explicitly.
   */
  allowPrivateNetworks?: boolean;
  /**
   * IPs or CIDRs (IPv4 and IPv6, e.g. `['127.0.0.0/8', '::1/128']`) that are allowed whatever their category.
   * An IPv4 entry also matches the IPv4-mapped IPv6 form of its addresses (::ffff:127.0.0.1), and an entry written
   * as IPv4-mapped IPv6 matches the plain IPv4 form, since both reach the same socket.
   */
  allowedAddresses?: string[];
}

/** Why {@link AddressPolicy.check} refused an address. */
export interface AddressRefusal {
  /** The address that was refused, as given (cut to 100 characters if it was not an IP at all). */
  address: string;
  category: AddressCategory;
}

type Ip = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Ip, number];

/** Strict parse of an IP literal; undefined if it is not one. Accepts `[v6]` brackets and drops an IPv6 zone id. */
function parseIp(input: string): Ip | undefined {
  if (typeof input !== 'string') return undefined;
  const ip = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  // isIP first: ipaddr.js also reads forms such as 0x7f.1 that are not IP literals.
  const family = isIP(ip);
  if (family === 4) return ipaddr.parse(ip);
  if (family !== 6) return undefined;
  // A zone id (fe80::1%eth0) picks the interface, not the address: classify the address part. A trailing dotted
  // quad is spelled in hex first, since ipaddr.js would read ::8.8.8.8 as the IPv4-mapped ::ffff:8.8.8.8.
  const address = ip.split('%')[0]!.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (quad) => {
    const [a, b, c, d] = quad.split('.').map(Number) as [number, number, number, number];
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  });
  return ipaddr.parse(address);
}

const inCidr = (ip: Ip, [range, prefix]: Cidr): boolean => ip.kind() === range.kind() && ip.match(range, prefix);
const isV4 = (ip: Ip): ip is ipaddr.IPv4 => ip.kind() === 'ipv4';
const v4 = (bytes: number[]): ipaddr.IPv4 => ipaddr.fromByteArray(bytes) as ipaddr.IPv4;

type Rule = [range: Cidr, category: AddressCategory];
const rules = (table: Array<[string, AddressCategory]>): Rule[] =>
  table.map(([text, category]) => [ipaddr.parseCIDR(text), category]);

// First match wins, so exact metadata addresses come before the ranges that contain them.
const IPV4_RULES = rules([
  ['169.254.169.254/32', 'metadata'],
  ['169.254.170.2/32', 'metadata'],
  ['169.254.170.23/32', 'metadata'],
  ['100.100.100.200/32', 'metadata'],
  ['192.0.0.192/32', 'metadata'],
  ['168.63.129.16/32', 'metadata'],
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
]);

const COMPATIBLE = ipaddr.parseCIDR('::/96');
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16');

const IPV6_RULES_BEFORE_EMBEDDED = rules([
  ['fd00:ec2::254/128', 'metadata'],
  ['fd00:ec2::23/128', 'metadata'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
]);

const IPV6_RULES = rules([
  ['64:ff9b:1::/48', 'nat64'],
  ['::/8', 'reserved'], // the rest of ::/8, e.g. SIIT ::ffff:0:a.b.c.d
  ['100::/64', 'reserved'], // discard-only
  ['2001::/32', 'teredo'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'reserved'], // IETF protocol assignments (ORCHID, anycast services…)
  ['3fff::/20', 'documentation'],
  ['2000::/3', 'public'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
]);

function classifyV4(ip: ipaddr.IPv4): AddressCategory {
  for (const [range, category] of IPV4_RULES) if (inCidr(ip, range)) return category;
  return 'public';
}

function classifyParsed(ip: Ip): AddressCategory {
  if (isV4(ip)) return classifyV4(ip);
  for (const [range, category] of IPV6_RULES_BEFORE_EMBEDDED) if (inCidr(ip, range)) return category;
  const bytes = ip.toByteArray();
  const embedded = v4(bytes.slice(12));
  if (ip.isIPv4MappedAddress() || inCidr(ip, NAT64)) return classifyV4(embedded);
  if (inCidr(ip, COMPATIBLE)) {
    const category = classifyV4(embedded);
    return category === 'public' ? 'reserved' : category;
  }
  if (inCidr(ip, SIX_TO_FOUR)) {
    // 2002:AABB:CCDD::/48 embeds AA.BB.CC.DD in bytes 2 to 5.
    const category = classifyV4(v4(bytes.slice(2, 6)));
    return category === 'public' ? '6to4' : category;
  }
  for (const [range, category] of IPV6_RULES) if (inCidr(ip, range)) return category;
  return 'reserved'; // unassigned IPv6 space outside 2000::/3
}

/**
 * Classifies an IPv4 or IPv6 literal (also `[v6]`, and `fe80::1%eth0`, whose zone id is ignored).
 * Anything that is not a valid IP literal is `reserved`, so callers fail closed.
 */
export function classifyAddress(ip: string): AddressCategory {
  const parsed = parseIp(ip);
  return parsed ? classifyParsed(parsed) : 'reserved';
}

const PRIVATE_NETWORK_CATEGORIES: ReadonlySet<AddressCategory> = new Set([
  'loopback',
  'private',
  'cgnat',
  'unique-local',
]);

/** The same address in the other family, if it has one: a.b.c.d <-> ::ffff:a.b.c.d. */
function alias(ip: Ip): Ip | undefined {
  if (isV4(ip)) return ip.toIPv4MappedAddress();
  return ip.isIPv4MappedAddress() ? ip.toIPv4Address() : undefined;
}

function parseAllowedEntry(entry: unknown, index: number): Cidr {
  const shown = typeof entry === 'string' ? JSON.stringify(entry) : typeof entry;
  const bad = (why: string) => new TypeError(`allowedAddresses[${index}] (${shown}) ${why}`);
  if (typeof entry !== 'string') throw bad('is not a string');
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  if (address.includes('%')) throw bad('has an IPv6 zone id; list the address without it');
  const parsed = parseIp(address);
  if (!parsed || address.startsWith('['))
    throw bad('is not an IPv4 or IPv6 address or CIDR (like 10.0.0.0/8 or fd00::/8)');
  const max = isV4(parsed) ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const text = entry.slice(slash + 1);
    prefix = Number(text);
    if (!/^\d{1,3}$/.test(text) || prefix > max)
      throw bad(`has an invalid prefix length (0 to ${max} for IPv${max === 32 ? 4 : 6})`);
  }
  return [parsed, prefix];
}

/**
 * Decides whether the webhook engine may connect to an IP address. Immutable once built.
 * Order: an `allowedAddresses` match allows; else `public` allows; else `allowPrivateNetworks` allows the private-network
 * categories; everything else is refused.
 */
export class AddressPolicy {
  readonly allowPrivateNetworks: boolean;
  private readonly allowed: readonly Cidr[];

  /** @throws TypeError naming the entry, if an `allowedAddresses` entry is not an IP or CIDR. */
  constructor(options: AddressPolicyOptions = {}) {
    const { allowPrivateNetworks = false, allowedAddresses = [] } = options;
    if (typeof allowPrivateNetworks !== 'boolean') throw new TypeError('allowPrivateNetworks must be a boolean');
    if (!Array.isArray(allowedAddresses)) throw new TypeError('allowedAddresses must be an array of IPs or CIDRs');
    this.allowPrivateNetworks = allowPrivateNetworks;
    this.allowed = Object.freeze(allowedAddresses.map(parseAllowedEntry));
  }

  /** Returns undefined if the address may be connected to, else why not. */
  check(ip: string): AddressRefusal | undefined {
    const parsed = parseIp(ip);
    if (!parsed) return { address: String(ip).slice(0, 100), category: 'reserved' };
    if (this.isAllowListed(parsed)) return undefined;
    const category = classifyParsed(parsed);
    if (category === 'public') return undefined;
    if (this.allowPrivateNetworks && PRIVATE_NETWORK_CATEGORIES.has(category)) return undefined;
    return { address: ip, category };
  }

  private isAllowListed(ip: Ip): boolean {
    const other = alias(ip);
    return this.allowed.some((range) => inCidr(ip, range) || (other !== undefined && inCidr(other, range)));
  }
}

const NEVER_ROUTABLE_CATEGORIES: ReadonlySet<AddressCategory> = new Set([
  'metadata',
  'link-local',
  'unspecified',
  'multicast',
]);

/**
 * For transports that do not connect themselves (Convoy): addresses no webhook can be meant for (cloud metadata,
 * link-local, 0.0.0.0, multicast), refused before the URL reaches the gateway; the gateway's own rules do the rest.
 */
export const NEVER_ROUTABLE: Pick<AddressPolicy, 'check'> = {
  check(ip: string): AddressRefusal | undefined {
    const category = classifyAddress(ip);
    return NEVER_ROUTABLE_CATEGORIES.has(category) ? { address: ip, category } : undefined;
  },
};
