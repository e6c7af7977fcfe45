// Which client a login attempt is counted against: the socket's address, or behind a trusted proxy
// the entry the proxy appended, never one the client wrote itself.
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../lib/client-address.ts';

describe('clientAddress', () => {
  it('uses the connection address and ignores X-Forwarded-For unless a proxy is trusted', () => {
    expect(clientAddress('203.0.113.7', '9.9.9.9', false)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7', undefined, false)).toBe('203.0.113.7');
    expect(clientAddress(undefined, undefined, false)).toBe('unknown');
  });

  it('behind a trusted proxy takes the last entry, the one the proxy appended', () => {
    expect(clientAddress('127.0.0.1', '9.9.9.9, 198.51.100.4', true)).toBe('198.51.100.4');
    expect(clientAddress('127.0.0.1', ['1.1.1.1', '198.51.100.4 '], true)).toBe('198.51.100.4');
    expect(clientAddress('127.0.0.1', '', true)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'x'.repeat(500), true)).toHaveLength(64);
  });
});
