// The SRTLA protocol core against the packets captured between BELABOX's sender and receiver
// (fixtures/srtla-captures.txt): every sender packet parses as its type and our answers match.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildKeepalive, parseKeepalive } from '../src/srtla/packets.ts';
import { type Group, NAK_QUIET_LINK_MS, packetType, REG_ERR, REG_NGP, REG3, SRTLA_TYPE, SrtlaRegistry } from '../src/srtla/protocol.ts';
import { srtAckNumber } from '../src/wire/srt.ts';
import { addressBlock } from '../src/wire/udp.ts';

interface Captured {
  name: string;
  from: string;
  to: string;
  direction: string;
  bytes: Buffer;
}

/** Reads every "### NAME dir ... src -> dst udp_payload_len=N" block with its hex dump. */
function readCaptures(): Captured[] {
  const path = fileURLToPath(new URL('./fixtures/srtla-captures.txt', import.meta.url));
  const packets: Captured[] = [];
  let current: (Captured & { expected: number }) | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const header = /^### (\S+)(?:\([^)]*\))?\s+(\S+)\s+t=\S+\s+(\S+) -> (\S+)\s+udp_payload_len=(\d+)/.exec(line);
    if (header) {
      if (current) packets.push(current);
      current = {
        name: header[1] as string,
        direction: header[2] as string,
        from: header[3] as string,
        to: header[4] as string,
        bytes: Buffer.alloc(0),
        expected: Number(header[5]),
      };
      continue;
    }
    const hex = /^ {2}[0-9a-f]{4} {2}((?:[0-9a-f]{2} ){1,16})/.exec(line);
    if (hex && current) current.bytes = Buffer.concat([current.bytes, Buffer.from(hex[1]?.replace(/ /g, '') as string, 'hex')]);
    else if (current && line.startsWith('===')) {
      packets.push(current);
      current = undefined;
    }
  }
  if (current) packets.push(current);
  return packets.filter((p) => p.bytes.length > 0);
}

const captures = readCaptures();
const fromSender = captures.filter((p) => p.direction === 'sender->rec');
const limits = { maxGroups: 10, maxLinksPerGroup: 8, linkTimeoutMs: 10_000, groupTimeoutMs: 10_000, registrationsPerSecond: 50 };
/** BELABOX's receiver sends its 2-byte replies as they are; ours leave padded to 32 bytes (NAT-proof). */
const paddedTo32 = (reply: Buffer) => Buffer.concat([reply, Buffer.alloc(32 - reply.length)]);
const first = (name: string, direction = 'sender->rec', length?: number) => {
  const found = captures.find((p) => p.name === name && p.direction === direction && (length === undefined || p.bytes.length === length));
  if (!found) throw new Error(`no captured ${name} ${direction} ${length ?? ''}`);
  return found.bytes;
};

describe('SRTLA captures', () => {
  it('has the packets the tests rely on', () => {
    expect(fromSender.length).toBeGreaterThan(10);
    expect(captures.every((p) => p.bytes.length > 0)).toBe(true);
  });

  it('parses every sender → receiver packet as its type', () => {
    const expected: Record<string, (b: Buffer) => boolean> = {
      SRTLA_REG1: (b) => packetType(b) === SRTLA_TYPE.reg1,
      SRTLA_REG2: (b) => packetType(b) === SRTLA_TYPE.reg2 && b.length === 258,
      SRTLA_KEEPALIVE: (b) => packetType(b) === SRTLA_TYPE.keepalive,
      SRT_HANDSHAKE: (b) => packetType(b) === 0x8000,
      SRT_ACKACK: (b) => packetType(b) === 0x8006,
      SRT_SHUTDOWN: (b) => packetType(b) === 0x8005,
      SRT_DATA: (b) => ((b[0] as number) & 0x80) === 0,
    };
    for (const packet of fromSender) {
      const check = expected[packet.name];
      expect(check, `a rule for ${packet.name}`).toBeDefined();
      expect(check?.(packet.bytes), `${packet.name} from ${packet.from}`).toBe(true);
    }
  });

  it('answers registration as the captured receiver does', () => {
    const registry = new SrtlaRegistry(limits);
    const probe = first('SRTLA_REG2');
    expect(registry.receive('127.0.0.2:39793', '127.0.0.2', probe, 0)).toEqual({ action: 'reply', data: REG_NGP });
    expect(REG_NGP).toEqual(paddedTo32(first('SRTLA_REG_NGP', 'rec->sender')));

    const reg1 = first('SRTLA_REG1', 'sender->rec', 258);
    const answer = registry.receive('127.0.0.2:39793', '127.0.0.2', reg1, 1);
    expect(answer.action).toBe('reply');
    const reg2 = (answer as { data: Buffer }).data;
    const captured = first('SRTLA_REG2', 'rec->sender');
    expect(reg2.length).toBe(captured.length);
    expect(reg2.subarray(0, 2)).toEqual(captured.subarray(0, 2));
    expect(reg2.subarray(2, 130)).toEqual(reg1.subarray(2, 130)); // the sender's first half
    expect(reg2.subarray(130)).not.toEqual(reg1.subarray(130)); // our own random second half

    const joined = registry.receive('127.0.0.2:39793', '127.0.0.2', reg2, 2);
    expect(joined).toMatchObject({ action: 'registered', reply: REG3, joined: true });
    expect(REG3).toEqual(paddedTo32(first('SRTLA_REG3', 'rec->sender')));
    // Idempotent, a second link joins, REG1 from a registered address is refused, truncated REG1 dropped.
    expect(registry.receive('127.0.0.2:39793', '127.0.0.2', reg2, 3)).toMatchObject({ action: 'registered', joined: false });
    expect(registry.receive('127.0.0.1:56155', '127.0.0.1', reg2, 3)).toMatchObject({ action: 'registered', joined: true });
    expect(registry.receive('127.0.0.2:39793', '127.0.0.2', reg1, 4)).toEqual({ action: 'reply', data: REG_ERR });
    expect(REG_ERR).toEqual(paddedTo32(first('SRTLA_REG_ERR', 'rec->sender')));
    expect(registry.receive('127.0.0.3:1', '127.0.0.3', first('SRTLA_REG1', 'sender->rec', 202), 4)).toEqual({ action: 'drop', reason: 'reg_truncated' });
  });

  it('echoes keepalives of 2, 10 and 38 bytes verbatim, only to registered links', () => {
    const registry = new SrtlaRegistry(limits);
    const reg2 = (registry.receive('a:1', 'a', first('SRTLA_REG1', 'sender->rec', 258), 0) as { data: Buffer }).data;
    registry.receive('a:1', 'a', reg2, 0);
    for (const length of [2, 10, 38]) {
      const keepalive = first('SRTLA_KEEPALIVE', 'sender->rec', length);
      expect(registry.receive('a:1', 'a', keepalive, 1)).toEqual({ action: 'reply', data: keepalive });
      expect(first('SRTLA_KEEPALIVE', 'rec->sender', length)).toEqual(keepalive);
    }
    expect(registry.receive('c:1', 'c', first('SRTLA_KEEPALIVE'), 1)).toEqual({ action: 'drop', reason: 'unregistered' });
  });

  it('sends a 44-byte SRTLA ACK with the right sequence numbers after every 10 data packets of a link', () => {
    const registry = new SrtlaRegistry(limits);
    const reg2 = (registry.receive('a:1', 'a', first('SRTLA_REG1', 'sender->rec', 258), 0) as { data: Buffer }).data;
    registry.receive('a:1', 'a', reg2, 0);
    registry.receive('b:1', 'b', reg2, 0);
    const data = Buffer.from(first('SRT_DATA'));
    const send = (key: string, seq: number) => {
      data.writeUInt32BE(seq);
      return registry.receive(key, key.split(':')[0] as string, Buffer.from(data), 1);
    };
    for (let seq = 1000; seq < 1009; seq++) expect(send('a:1', seq)).not.toHaveProperty('ack');
    for (let seq = 2000; seq < 2005; seq++) expect(send('b:1', seq)).not.toHaveProperty('ack');
    const tenth = send('a:1', 1009) as { ack: Buffer; action: string };
    expect(tenth.action).toBe('forward');
    const capturedAck = first('SRTLA_ACK', 'rec->sender');
    expect(tenth.ack.length).toBe(44);
    expect(tenth.ack.subarray(0, 4)).toEqual(capturedAck.subarray(0, 4));
    expect([...Array(10).keys()].map((i) => tenth.ack.readUInt32BE(4 + i * 4))).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
  });

  it("sends the SRT listener's ACK to every link, a NAK to the most recent link (every link once it went quiet), other replies to the most recent link", () => {
    const registry = new SrtlaRegistry(limits);
    const reg2 = (registry.receive('a:1', 'a', first('SRTLA_REG1', 'sender->rec', 258), 0) as { data: Buffer }).data;
    registry.receive('a:1', 'a', reg2, 0);
    registry.receive('b:1', 'b', reg2, 0);
    const forwarded = registry.receive('b:1', 'b', first('SRT_HANDSHAKE'), 1) as { group: Parameters<SrtlaRegistry['routeReply']>[0] };
    const group = forwarded.group;
    expect(
      registry
        .routeReply(group, first('SRT_ACK', 'srt->rec'))
        .map((l) => l.key)
        .sort(),
    ).toEqual(['a:1', 'b:1']);
    // The latest link spoke 9 ms ago: the NAK goes there only (a copy per link is a retransmission per copy).
    expect(registry.routeReply(group, first('SRT_NAK', 'srt->rec'), 10).map((l) => l.key)).toEqual(['b:1']);
    expect(registry.routeReply(group, first('SRT_HANDSHAKE', 'srt->rec'), 10).map((l) => l.key)).toEqual(['b:1']);
    // The latest link has gone quiet: a NAK must not die with it, so every link carries it.
    expect(
      registry
        .routeReply(group, first('SRT_NAK', 'srt->rec'), 1 + NAK_QUIET_LINK_MS + 1)
        .map((l) => l.key)
        .sort(),
    ).toEqual(['a:1', 'b:1']);
  });

  it('limits links per group, expires silent links so a re-bound NAT port gets in, and counts drops', () => {
    const registry = new SrtlaRegistry({ ...limits, maxLinksPerGroup: 2, linkTimeoutMs: 3000 });
    const reg2 = (registry.receive('a:1', 'a', first('SRTLA_REG1', 'sender->rec', 258), 0) as { data: Buffer }).data;
    registry.receive('a:1', 'a', reg2, 0);
    registry.receive('b:1', 'b', reg2, 0);
    expect(registry.receive('c:1', 'c', reg2, 100)).toEqual({ action: 'reply', data: REG_ERR });
    // b goes silent (its NAT re-bound to b:2); a keeps talking.
    registry.receive('a:1', 'a', first('SRTLA_KEEPALIVE'), 2500);
    expect(registry.receive('b:2', 'b', reg2, 3500)).toMatchObject({ action: 'registered', joined: true });
    expect(registry.links.has('b:1')).toBe(false);
    expect(registry.drops.get('group_full')).toBe(1);
  });
});

describe('SRTLA protocol beyond the captures', () => {
  const join = (registry: SrtlaRegistry, keys: string[], now = 0) => {
    const reg2 = (
      registry.receive(keys[0] as string, (keys[0] as string).split(':')[0] as string, first('SRTLA_REG1', 'sender->rec', 258), now) as { data: Buffer }
    ).data;
    for (const key of keys) registry.receive(key, key.split(':')[0] as string, reg2, now);
    return reg2;
  };

  it('reads the link telemetry of the captured extended keepalive and reports its RTT', () => {
    const keepalive = first('SRTLA_KEEPALIVE', 'sender->rec', 38);
    expect(parseKeepalive(keepalive)).toEqual({
      timestampMs: 987654321,
      telemetry: { connId: 7, window: 20000, inFlight: 3, rttMs: 45, nakCount: 0, bitrateBytesPerSec: 250000 },
    });
    expect(parseKeepalive(first('SRTLA_KEEPALIVE', 'sender->rec', 10))).toEqual({ timestampMs: 0x075bcd15, telemetry: null });
    expect(parseKeepalive(first('SRTLA_KEEPALIVE', 'sender->rec', 2))).toEqual({ timestampMs: null, telemetry: null });
    expect(buildKeepalive(987654321, { connId: 7, window: 20000, inFlight: 3, rttMs: 45, nakCount: 0, bitrateBytesPerSec: 250000 })).toEqual(keepalive);
    const registry = new SrtlaRegistry(limits);
    join(registry, ['a:1']);
    registry.receive('a:1', 'a', keepalive, 1);
    expect(registry.links.get('a:1')?.rttMs).toBe(45);
  });

  it('times SRT ACK → ACKACK over the link that carried the ACKACK when the sender reports no RTT', () => {
    const registry = new SrtlaRegistry(limits);
    join(registry, ['a:1', 'b:1']);
    const group = registry.links.get('a:1')?.group as Group;
    const ack = first('SRT_ACK', 'srt->rec');
    const ackack = first('SRT_ACKACK');
    expect(srtAckNumber(ack)).toBe(srtAckNumber(ackack));
    registry.routeReply(group, ack, 1000);
    registry.receive('b:1', 'b', ackack, 1040);
    expect(registry.links.get('b:1')?.rttMs).toBe(40);
    expect(registry.links.get('a:1')?.rttMs).toBeNull();
  });

  it('accepts registrations padded past 258 bytes and drops SRTLA control a sender should not send', () => {
    const registry = new SrtlaRegistry(limits);
    const padded = Buffer.concat([first('SRTLA_REG1', 'sender->rec', 258), Buffer.alloc(42)]);
    const answer = registry.receive('a:1', 'a', padded, 0) as { action: string; data: Buffer };
    expect(answer.action).toBe('reply');
    expect(answer.data.length).toBe(258);
    expect(registry.receive('a:1', 'a', Buffer.concat([answer.data, Buffer.alloc(100)]), 0)).toMatchObject({ action: 'registered', joined: true });
    const ackFromSender = Buffer.concat([first('SRTLA_ACK', 'rec->sender')]);
    expect(registry.receive('a:1', 'a', ackFromSender, 1)).toEqual({ action: 'drop', reason: 'unexpected_srtla' });
    const reg3Padded = Buffer.concat([REG3, Buffer.alloc(30)]);
    expect(registry.receive('a:1', 'a', reg3Padded, 1)).toEqual({ action: 'drop', reason: 'unexpected_srtla' });
  });

  it('does not let REG1 floods fill the group table: groups nobody joined make room and expire', () => {
    const registry = new SrtlaRegistry({ ...limits, maxGroups: 2 });
    const reg1 = first('SRTLA_REG1', 'sender->rec', 258);
    registry.receive('x:1', 'x', reg1, 0);
    registry.receive('y:1', 'y', reg1, 0);
    expect(registry.receive('z:1', 'z', reg1, 500)).toEqual({ action: 'reply', data: REG_ERR }); // too soon to evict
    expect(registry.receive('z:1', 'z', reg1, 1500)).toMatchObject({ action: 'created', evicted: [] });
    expect(registry.groups.size).toBe(2);
    registry.sweep(7000);
    expect(registry.groups.size).toBe(0);
    expect(registry.drops.get('too_many_groups')).toBe(1);
  });

  it('caps groups per address, drops groups that never reached an accepted SRT connection, and keeps streaming groups when full', () => {
    const registry = new SrtlaRegistry({ ...limits, maxGroups: 3, registrationsPerSecond: 100 });
    const reg1 = first('SRTLA_REG1', 'sender->rec', 258);
    const joinFrom = (key: string, now: number) => {
      const address = key.split(':')[0] as string;
      const answer = registry.receive(key, address, reg1, now) as { action: string; data?: Buffer; reply?: Buffer };
      const reg2 = (answer.data ?? answer.reply) as Buffer;
      registry.receive(key, address, reg2, now);
      return registry.links.get(key)?.group as Group;
    };
    // A squatter keeps two groups alive from one address; its third REG1 is refused.
    joinFrom('squat:1', 0);
    joinFrom('squat:2', 0);
    expect(registry.receive('squat:3', 'squat', reg1, 100)).toEqual({ action: 'reply', data: REG_ERR });
    expect(registry.drops.get('too_many_groups_from_address')).toBe(1);
    // A real sender gets the last slot and its SRT connection is accepted (the listener ACKs it).
    const real = joinFrom('real:1', 200);
    registry.routeReply(real, first('SRT_ACK', 'srt->rec'), 300);
    // Full. A newcomer takes the slot of the oldest group without live SRT traffic, never the streaming one.
    const keepalive = first('SRTLA_KEEPALIVE');
    for (const key of ['squat:1', 'squat:2', 'real:1']) registry.receive(key, key.split(':')[0] as string, keepalive, 3500);
    registry.routeReply(real, first('SRT_ACK', 'srt->rec'), 3500);
    const newcomer = registry.receive('new:1', 'new', reg1, 3600);
    expect(newcomer).toMatchObject({ action: 'created', evicted: [{ link: { key: 'squat:1' } }] });
    expect(registry.links.has('real:1')).toBe(true);
    // Groups that never reached an accepted SRT connection go after 6 s, however alive their links are.
    for (const key of ['squat:2', 'real:1']) registry.receive(key, key.split(':')[0] as string, keepalive, 6000);
    registry.routeReply(real, first('SRT_ACK', 'srt->rec'), 6000);
    const swept = registry.sweep(6100);
    expect(swept.evictedLinks.map((l) => l.link.key)).toEqual(['squat:2']);
    expect([...registry.groups.values()].map((g) => g.address).sort()).toEqual(['new', 'real']);
  });

  it('counts an IPv6 /64 as one address for the group cap', () => {
    expect(addressBlock('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('::ffff:192.0.2.7')).toBe('192.0.2.7');
    const registry = new SrtlaRegistry({ ...limits, maxGroups: 8, registrationsPerSecond: 100 });
    const reg1 = first('SRTLA_REG1', 'sender->rec', 258);
    expect(registry.receive('[2001:db8:1:2::a]:1', '2001:db8:1:2::a', reg1, 0).action).toBe('reply');
    expect(registry.receive('[2001:db8:1:2::b]:1', '2001:db8:1:2::b', reg1, 0).action).toBe('reply');
    expect(registry.receive('[2001:db8:1:2::c]:1', '2001:db8:1:2::c', reg1, 0)).toEqual({ action: 'reply', data: REG_ERR });
    expect(registry.receive('[2001:db8:1:3::a]:1', '2001:db8:1:3::a', reg1, 0).action).toBe('reply');
  });

  it('limits registrations per address per second', () => {
    const registry = new SrtlaRegistry({ ...limits, registrationsPerSecond: 3 });
    const probe = first('SRTLA_REG2');
    const outcomes = [1, 2, 3, 4, 5].map(() => registry.receive('a:1', 'a', probe, 100).action);
    expect(outcomes).toEqual(['reply', 'reply', 'reply', 'drop', 'drop']);
    expect(registry.receive('a:2', 'a', probe, 200).action).toBe('drop'); // same address, other port
    expect(registry.receive('b:1', 'b', probe, 200).action).toBe('reply');
    expect(registry.receive('a:1', 'a', probe, 1100).action).toBe('reply');
    expect(registry.drops.get('rate_limited')).toBe(3);
  });

  it('expires a silent link after the link timeout and an empty group after the group timeout', () => {
    const registry = new SrtlaRegistry({ ...limits, linkTimeoutMs: 5000, groupTimeoutMs: 10_000 });
    join(registry, ['a:1', 'b:1']);
    registry.routeReply(registry.links.get('a:1')?.group as Group, first('SRT_ACK', 'srt->rec'), 1); // its SRT connection was accepted
    registry.receive('a:1', 'a', first('SRTLA_KEEPALIVE'), 4000);
    expect(registry.sweep(5001).leftLinks.map((l) => l.key)).toEqual(['b:1']);
    expect(registry.sweep(9001).leftLinks.map((l) => l.key)).toEqual(['a:1']);
    expect(registry.sweep(15_000).removedGroups).toHaveLength(0);
    expect(registry.sweep(19_002).removedGroups).toHaveLength(1);
  });

  it('survives 100 000 random and mutated datagrams with every one accounted for', () => {
    const registry = new SrtlaRegistry({ ...limits, maxGroups: 4, registrationsPerSecond: 20 });
    const vectors = fromSender.map((p) => p.bytes);
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const addresses = ['10.0.0.1', '10.0.0.2', '::1', '2001:db8::5'];
    const reg2s: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) {
      let datagram: Buffer;
      const pick = random();
      if (pick < 0.45) {
        datagram = Buffer.from(vectors[Math.floor(random() * vectors.length)] as Buffer);
        for (let k = 0; k < 3; k++) if (datagram.length) datagram[Math.floor(random() * datagram.length)] = Math.floor(random() * 256);
        if (random() < 0.3) datagram = datagram.subarray(0, Math.floor(random() * datagram.length));
      } else if (pick < 0.5 && reg2s.length) {
        datagram = reg2s[Math.floor(random() * reg2s.length)] as Buffer; // a group's real id: links do join
      } else if (pick < 0.55) {
        datagram = Buffer.from(vectors[Math.floor(random() * vectors.length)] as Buffer); // intact
      } else {
        datagram = Buffer.alloc(Math.floor(random() * 1500));
        for (let k = 0; k < datagram.length; k++) datagram[k] = Math.floor(random() * 256);
      }
      const address = addresses[i % addresses.length] as string;
      const outcome = registry.receive(`${address}|${i % 7}`, address, datagram, i);
      if (outcome.action === 'reply' && outcome.data.length === 258) reg2s.push(outcome.data);
      if (outcome.action === 'forward') registry.routeReply(outcome.group, first('SRT_ACK', 'srt->rec'), i);
      if (i % 1000 === 0) registry.sweep(i);
    }
    const c = registry.counters;
    expect(c.datagrams).toBe(100_000);
    expect(c.forwarded + c.echoed + c.answered + registry.senderDrops()).toBe(100_000);
    expect(c.forwarded).toBeGreaterThan(0);
    expect(registry.groups.size).toBeLessThanOrEqual(4);
    for (const group of registry.groups.values()) expect(group.links.size).toBeLessThanOrEqual(limits.maxLinksPerGroup);
  });
});
