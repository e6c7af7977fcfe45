// Which client a login attempt is counted against: the socket's address, or behind a configured
// proxy the entry that proxy appended, never one the client wrote itself; IPv6 by its /64.
import { describe, expect, it } from 'vitest';
import { clientAddress, rateLimitKey, trustedProxies } from '../lib/client-address.ts';
import { LoginGate } from '../lib/login-gate.ts';

const none = trustedProxies([]);
const local = trustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

describe('clientAddress', () => {
  it('uses the connection address and ignores X-Forwarded-For unless it comes from a configured proxy', () => {
    expect(clientAddress('203.0.113.7', '9.9.9.9', none)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7', undefined, none)).toBe('203.0.113.7');
    expect(clientAddress(undefined, undefined, none)).toBe('unknown');
    expect(clientAddress('203.0.113.7', '9.9.9.9', local)).toBe('203.0.113.7');
  });

  it('behind configured proxies takes the first entry from the end that is not one of them', () => {
    expect(clientAddress('127.0.0.1', '9.9.9.9, 198.51.100.4', local)).toBe('198.51.100.4');
    expect(clientAddress('127.0.0.1', ['1.1.1.1', '198.51.100.4 '], local)).toBe('198.51.100.4');
    expect(clientAddress('127.0.0.1', '9.9.9.9, 198.51.100.4, 10.1.2.3', local)).toBe('198.51.100.4');
    expect(clientAddress('fd00::5', '2001:db8::1', local)).toBe('2001:db8::1');
    expect(clientAddress('127.0.0.1', '', local)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'x'.repeat(500), local)).toHaveLength(64);
  });

  it('refuses a proxy list entry that is not an address or range', () => {
    expect(() => trustedProxies(['caddy'])).toThrow(/"caddy" is not an IP address/);
    expect(() => trustedProxies(['10.0.0.0/40'])).toThrow(/bad prefix/);
  });
});

describe('rateLimitKey', () => {
  it('keeps IPv4 addresses and folds IPv6 ones to their /64', () => {
    expect(rateLimitKey('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitKey('2001:db8:77:1::1')).toBe('2001:db8:77:1::/64');
    expect(rateLimitKey('2001:0db8:0077:0001:ffff:1:2:3')).toBe('2001:db8:77:1::/64');
    expect(rateLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitKey('unknown')).toBe('unknown');
  });
});

describe('LoginGate (fake clock)', () => {
  it('counts on arrival, admits one at a time per client, gives back successes, and has a global budget', () => {
    let now = 0;
    const gate = new LoginGate({ perClientPerMinute: 3, globalPerMinute: 5 }, () => now);
    const first = gate.admit('a');
    expect(first.admitted).toBe(true);
    expect(gate.admit('a')).toMatchObject({ admitted: false, reason: 'in-flight' });
    if (first.admitted) first.done();
    for (let i = 0; i < 2; i++) {
      const next = gate.admit('a');
      if (next.admitted) next.done();
    }
    expect(gate.admit('a')).toMatchObject({ admitted: false, reason: 'client-limit' });
    // A right password gives its attempt back.
    const good = gate.admit('b');
    if (good.admitted) {
      good.succeeded();
      good.done();
    }
    for (const client of ['c', 'd']) {
      const next = gate.admit(client);
      if (next.admitted) next.done();
    }
    expect(gate.admit('e')).toMatchObject({ admitted: false, reason: 'global-limit' });
    now = 60_001;
    expect(gate.admit('a').admitted).toBe(true);
  });
});
