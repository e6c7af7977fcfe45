// Which client sent a request, as far as the dashboard can vouch for it, and the key its login
// attempts are counted under. No I/O: server.ts stamps every request with it.
import { BlockList, isIP } from 'node:net';

/** Set by server.ts on every request (a client's own copy is overwritten). */
export const CLIENT_ADDRESS_HEADER = 'x-irlkit-client-address';

/**
 * The proxies whose X-Forwarded-For entries are believed: addresses or CIDR ranges
 * ("127.0.0.1", "10.0.0.0/8", "fd00::/8"). Throws a message naming the bad entry.
 */
export function trustedProxies(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new Error(`"${entry}" has a bad prefix length`);
    list.addSubnet(address, bits, type);
  }
  return list;
}

function isTrusted(proxies: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The socket's address; when that is one of your proxies, X-Forwarded-For is read from its end:
 * each entry a trusted proxy appended is stepped over, and the first one that is not a trusted
 * proxy is the client (every entry before it is whatever the client chose to send).
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, proxies: BlockList): string {
  let address = normalize(socketAddress) || 'unknown';
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
  const hops = header
    .split(',')
    .map((entry) => normalize(entry))
    .filter(Boolean);
  while (isTrusted(proxies, address)) {
    const previous = hops.pop();
    if (!previous) break;
    address = previous;
  }
  return address;
}

function normalize(address: string | undefined): string {
  const a = (address ?? '').trim().slice(0, 64);
  return a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * The key login attempts are counted under: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber gets a whole /64 and could take a fresh address for every guess).
 */
export function rateLimitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('%')[0]?.split('::') ?? [];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) takes two groups; only the first four matter here.
  const groups = [...headGroups, ...Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
