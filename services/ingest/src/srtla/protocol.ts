// SRTLA's receiving side as pure state: registration of links into groups, keepalive echo,
// per-link SRTLA ACKs, where the SRT listener's replies go, expiry, limits and counters.
// No sockets, no clock: the caller passes datagrams and the time in, and carries out the result.
import { randomBytes } from 'node:crypto';
import { isSrtData, isSrtRetransmission, packetType, SRT_CONTROL, SRT_HEADER_BYTES, srtAckNumber, srtDataSeq } from '../wire/srt.ts';
import { addressBlock } from '../wire/udp.ts';
import { NakFilter } from './nak-filter.ts';
import {
  newSrtlaAck,
  parseKeepalive,
  REG_ERR,
  REG_NGP,
  REG3,
  reg2,
  registrationId,
  SRTLA_ACK_SEQS,
  SRTLA_ID_BYTES,
  SRTLA_TYPE,
  writeAckSeq,
} from './packets.ts';

export { packetType, REG_ERR, REG_NGP, REG3, reg2, SRTLA_ACK_SEQS, SRTLA_ID_BYTES, SRTLA_TYPE };

/** Why a datagram was not forwarded, echoed or answered. Every one is counted. */
export const DROP_REASONS = [
  /** Under SRT's 16-byte header (and not a keepalive) from a registered link, or empty. */
  'short',
  /** Not a registration, from an address that is not a registered link. */
  'unregistered',
  /** REG1/REG2 shorter than 258 bytes. */
  'reg_truncated',
  /** More registrations from one address in one second than allowed. */
  'rate_limited',
  /** REG2 for a group that already has its maximum of links (answered REG_ERR). */
  'group_full',
  /** REG1 while the receiver holds its maximum of groups, none of them idle (answered REG_ERR). */
  'too_many_groups',
  /** REG1 from an address that already registered its maximum of groups (answered REG_ERR). */
  'too_many_groups_from_address',
  /** REG1 from a registered link, or REG2 for another group (answered REG_ERR). */
  'already_registered',
  /** SRTLA control a sender has no business sending (REG3, ACK, unknown 0x9xxx). */
  'unexpected_srtla',
  /** SRT handshake (and what follows) of a sender whose stream id may not publish (SRT_STREAM_KEY). */
  'refused_stream_id',
  /** The kernel failed a send to the SRT listener. */
  'forward_error',
  /**
   * The SRT listener's port was closed (it is restarting): ICMP port unreachable on the group's
   * connected socket. The kernel rate-limits these messages, so this is a lower bound.
   */
  'listener_refused',
  /** A packet on a group's socket from somewhere other than the SRT listener. */
  'foreign_reply',
  /** A listener reply for a group that has no link left to carry it. */
  'no_link',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
/** Reasons counted on the group sockets (the listener's side), outside the senders' datagram tally. */
export const LISTENER_SIDE_DROPS: readonly DropReason[] = ['forward_error', 'listener_refused', 'foreign_reply', 'no_link'];

/**
 * A NAK goes to the latest link alone while that link was heard this recently; a live feed sends
 * hundreds of packets a second, so a quieter latest link means the whole group is faltering.
 */
export const NAK_QUIET_LINK_MS = 100;

export interface Link {
  /** Exact source address and port, as the socket reports it. */
  key: string;
  /** Host part, normalised (no ::ffff:), for per-address limits. */
  address: string;
  group: Group;
  registeredAt: number;
  lastSeen: number;
  /** Datagrams forwarded to the SRT listener from this link. */
  packets: number;
  bytes: number;
  /** The SRTLA ACK being filled with this link's data sequence numbers. */
  ack: Buffer;
  ackCount: number;
  /** Sender-reported RTT (extended keepalive), else SRT ACK → ACKACK over this link; null until measured. */
  rttMs: number | null;
  rttSource: 'keepalive' | 'ackack' | null;
}

export interface Group {
  id: Buffer;
  /** The address block (IPv4 address, IPv6 /64) that registered it (REG1), for the per-address cap. */
  address: string;
  /** When the SRT listener last sent this group an ACK, NAK or keepalive (an accepted connection); null if never. */
  srtAnsweredAt: number | null;
  /** Short printable id (hex of the start of the receiver's half). */
  label: string;
  createdAt: number;
  links: Map<string, Link>;
  /** The link that most recently sent something: where non-broadcast replies go. */
  lastLink: Link | undefined;
  emptySince: number | null;
  everJoined: boolean;
  /** SRT ACK numbers sent to the sender and when, to time the ACKACKs (a small ring). */
  ackNumbers: Uint32Array;
  ackSentAt: Float64Array;
  ackNext: number;
  /** Keeps the SRT listener's repeated NAKs from reaching the sender before a retransmission could have arrived. */
  naks: NakFilter;
}

export interface Limits {
  maxGroups: number;
  maxLinksPerGroup: number;
  linkTimeoutMs: number;
  groupTimeoutMs: number;
  /** Registration packets (REG1/REG2) accepted per source address per second. */
  registrationsPerSecond: number;
  /** Groups one source address may hold (REG1s from it beyond this are refused). */
  maxGroupsPerAddress?: number;
  /** A group whose traffic never reached an accepted SRT connection is dropped after this. */
  unansweredGroupMs?: number;
  /**
   * A link silent this long is replaced at once when the same address registers a new port (a
   * mobile NAT re-bound it) or a full group needs room; senders keep idle links alive every second.
   */
  staleLinkMs?: number;
}
const DEFAULT_STALE_LINK_MS = 2500;
/** A group nobody joined (REG1 without REG2) is dropped after this, so REG1 floods cannot fill the table. */
const UNJOINED_GROUP_MS = 5000;
const ACK_RING = 32;
const DEFAULT_MAX_GROUPS_PER_ADDRESS = 2;
/** A sender's SRT handshake follows its registration within a second; a squatter's never completes. */
const DEFAULT_UNANSWERED_GROUP_MS = 6000;
/** When every slot is taken, a group whose SRT connection answered within this is kept over newcomers. */
const LIVE_GROUP_MS = 3000;
/** A newly registered group may not be evicted for a newcomer this soon (its SRT handshake is under way). */
const NEW_GROUP_GRACE_MS = 3000;

export type Outcome =
  | { action: 'reply'; data: Buffer }
  /** REG1 answered; to make room, the listed links' group was dropped. */
  | { action: 'created'; reply: Buffer; evictedGroup: Group; evicted: LeftLink[] }
  | { action: 'forward'; group: Group; link: Link; data: Buffer; ack?: Buffer; isData: boolean }
  | { action: 'drop'; reason: DropReason }
  | { action: 'registered'; reply: Buffer; link: Link; joined: boolean; replaced: LeftLink[] };

export interface Counters {
  /** Datagrams received from senders. Equals forwarded + echoed + answered + all drops. */
  datagrams: number;
  forwarded: number;
  /** Keepalives echoed. */
  echoed: number;
  /** Registrations answered with REG_NGP, REG2 or REG3 (REG_ERR answers count as drops). */
  answered: number;
  /** SRTLA ACKs sent. */
  srtlaAcks: number;
  /** Listener replies delivered to senders (one per reply, however many links carried it). */
  replies: number;
}

export interface LeftLink {
  link: Link;
  reason: string;
}

export class SrtlaRegistry {
  readonly groups = new Map<string, Group>();
  readonly links = new Map<string, Link>();
  readonly drops = new Map<DropReason, number>();
  readonly counters: Counters = { datagrams: 0, forwarded: 0, echoed: 0, answered: 0, srtlaAcks: 0, replies: 0 };
  private readonly regRate = new Map<string, { second: number; count: number }>();
  private readonly staleLinkMs: number;
  private readonly maxGroupsPerAddress: number;
  private readonly unansweredGroupMs: number;

  constructor(private readonly limits: Limits) {
    this.staleLinkMs = limits.staleLinkMs ?? DEFAULT_STALE_LINK_MS;
    this.maxGroupsPerAddress = limits.maxGroupsPerAddress ?? DEFAULT_MAX_GROUPS_PER_ADDRESS;
    this.unansweredGroupMs = limits.unansweredGroupMs ?? DEFAULT_UNANSWERED_GROUP_MS;
  }

  /** A datagram from a sender. `key` identifies the link (address and port), `address` its host. */
  receive(key: string, address: string, datagram: Buffer, now: number): Outcome {
    this.counters.datagrams += 1;
    const type = packetType(datagram);
    if (type === SRTLA_TYPE.reg1 || type === SRTLA_TYPE.reg2) return this.register(key, address, type, datagram, now);
    const link = this.links.get(key);
    if (!link) return this.drop('unregistered');
    link.lastSeen = now;
    const group = link.group;
    group.emptySince = null;
    if (type === SRTLA_TYPE.keepalive) {
      const telemetry = parseKeepalive(datagram).telemetry;
      if (telemetry) {
        link.rttMs = telemetry.rttMs;
        link.rttSource = 'keepalive';
      }
      this.counters.echoed += 1;
      return { action: 'reply', data: datagram };
    }
    if (datagram.length < SRT_HEADER_BYTES) return this.drop('short');
    if (type >= 0x9000 && type <= 0x92ff) return this.drop('unexpected_srtla');
    group.lastLink = link;
    link.packets += 1;
    link.bytes += datagram.length;
    this.counters.forwarded += 1;
    if (!isSrtData(datagram)) {
      if (type === SRT_CONTROL.ackack) this.timeAckAck(group, link, datagram, now);
      return { action: 'forward', group, link, data: datagram, isData: false };
    }
    const seq = srtDataSeq(datagram);
    if (isSrtRetransmission(datagram)) group.naks.retransmissionArrived(seq, now);
    writeAckSeq(link.ack, link.ackCount, seq);
    link.ackCount += 1;
    if (link.ackCount < SRTLA_ACK_SEQS) return { action: 'forward', group, link, data: datagram, isData: true };
    const ack = link.ack;
    link.ack = newSrtlaAck();
    link.ackCount = 0;
    this.counters.srtlaAcks += 1;
    return { action: 'forward', group, link, data: datagram, isData: true, ack };
  }

  /**
   * Where a reply from the SRT listener goes: ACK to every link; a NAK to the link that spoke last,
   * and to every link only when that one has gone quiet (each copy of a NAK that arrives makes the
   * sender retransmit again); the rest to the latest link.
   */
  routeReply(group: Group, datagram: Uint8Array, now = 0): Link[] {
    const type = packetType(datagram);
    if (group.links.size === 0) {
      this.drop('no_link');
      return [];
    }
    this.counters.replies += 1;
    // Only a connection srt-live-transmit accepted gets ACKs, NAKs and keepalives: this group is a real sender.
    if (type === SRT_CONTROL.ack || type === SRT_CONTROL.nak || type === SRT_CONTROL.keepalive) group.srtAnsweredAt = now;
    if (type === SRT_CONTROL.ack) {
      this.noteAckSent(group, datagram, now);
      return [...group.links.values()];
    }
    const latest = group.lastLink && group.links.has(group.lastLink.key) ? group.lastLink : undefined;
    if (type === SRT_CONTROL.nak && (!latest || now - latest.lastSeen > NAK_QUIET_LINK_MS)) return [...group.links.values()];
    return latest ? [latest] : [...group.links.values()].slice(-1);
  }

  /**
   * Expires silent links, empty groups, and groups whose traffic never reached an accepted SRT
   * connection (squatters that register and keep links alive but never stream); returns what left.
   */
  sweep(now: number): { leftLinks: Link[]; removedGroups: Group[]; evictedLinks: LeftLink[] } {
    const leftLinks: Link[] = [];
    const removedGroups: Group[] = [];
    const evictedLinks: LeftLink[] = [];
    for (const link of this.links.values()) {
      if (now - link.lastSeen > this.limits.linkTimeoutMs) {
        this.removeLink(link, now);
        leftLinks.push(link);
      }
    }
    for (const group of this.groups.values()) {
      if (group.srtAnsweredAt !== null || now - group.createdAt <= this.unansweredGroupMs) continue;
      const reason = `its group never reached an accepted SRT connection in ${Math.round(this.unansweredGroupMs / 1000)} s`;
      for (const link of this.removeGroup(group)) evictedLinks.push({ link, reason });
      removedGroups.push(group);
    }
    for (const group of this.groups.values()) {
      if (group.links.size > 0 || group.emptySince === null) continue;
      const timeout = group.everJoined ? this.limits.groupTimeoutMs : Math.min(this.limits.groupTimeoutMs, UNJOINED_GROUP_MS);
      if (now - group.emptySince > timeout) {
        this.groups.delete(group.id.toString('hex'));
        removedGroups.push(group);
      }
    }
    const second = Math.floor(now / 1000);
    for (const [address, rate] of this.regRate) if (rate.second < second - 1) this.regRate.delete(address);
    return { leftLinks, removedGroups, evictedLinks };
  }

  /** Counts a drop that happened outside the registry (socket errors, foreign packets). */
  /** A datagram `receive` let through is dropped after all (its sender's stream id was refused). */
  retract(reason: DropReason): void {
    this.counters.forwarded -= 1;
    this.count(reason);
  }

  count(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  /** Drops of datagrams from senders: datagrams = forwarded + echoed + answered + senderDrops(). */
  senderDrops(): number {
    let total = 0;
    for (const [reason, n] of this.drops) if (!LISTENER_SIDE_DROPS.includes(reason)) total += n;
    return total;
  }

  totalDrops(): number {
    let total = 0;
    for (const n of this.drops.values()) total += n;
    return total;
  }

  private register(key: string, address: string, type: number, datagram: Buffer, now: number): Outcome {
    const id = registrationId(datagram);
    // A registration from a registered link also proves it alive, even a malformed one.
    const existing = this.links.get(key);
    if (existing) existing.lastSeen = now;
    if (!id) return this.drop('reg_truncated');
    const second = Math.floor(now / 1000);
    const rate = this.regRate.get(address);
    if (rate && rate.second === second) {
      rate.count += 1;
      if (rate.count > this.limits.registrationsPerSecond) return this.drop('rate_limited');
    } else this.regRate.set(address, { second, count: 1 });

    if (type === SRTLA_TYPE.reg1) {
      if (existing) return this.refuse('already_registered');
      const block = addressBlock(address);
      let fromAddress = 0;
      for (const g of this.groups.values()) if (g.address === block) fromAddress += 1;
      if (fromAddress >= this.maxGroupsPerAddress) return this.refuse('too_many_groups_from_address');
      let evictedGroup: Group | undefined;
      if (this.groups.size >= this.limits.maxGroups) {
        evictedGroup = this.makeRoom(now);
        if (!evictedGroup) return this.refuse('too_many_groups');
      }
      const full = Buffer.concat([id.subarray(0, SRTLA_ID_BYTES / 2), randomBytes(SRTLA_ID_BYTES / 2)]);
      const group: Group = {
        id: full,
        address: block,
        srtAnsweredAt: null,
        label: full.subarray(128, 132).toString('hex'),
        createdAt: now,
        links: new Map(),
        lastLink: undefined,
        emptySince: now,
        everJoined: false,
        ackNumbers: new Uint32Array(ACK_RING),
        ackSentAt: new Float64Array(ACK_RING).fill(-1),
        ackNext: 0,
        naks: new NakFilter(),
      };
      this.groups.set(full.toString('hex'), group);
      this.counters.answered += 1;
      if (!evictedGroup) return { action: 'reply', data: reg2(full) };
      const reason = 'its group had no live SRT traffic and its slot went to a new sender';
      const evicted = this.removeGroup(evictedGroup).map((link) => ({ link, reason }));
      return { action: 'created', reply: reg2(full), evictedGroup, evicted };
    }

    const group = this.groups.get(id.toString('hex'));
    if (!group) {
      this.counters.answered += 1;
      return { action: 'reply', data: REG_NGP };
    }
    if (existing) {
      if (existing.group !== group) return this.refuse('already_registered');
      this.counters.answered += 1;
      return { action: 'registered', reply: REG3, link: existing, joined: false, replaced: [] };
    }
    const replaced: LeftLink[] = [];
    // A mobile NAT that re-bound a link's port: the silent old port of this address goes at once.
    for (const old of group.links.values()) {
      if (old.address === address && now - old.lastSeen >= this.staleLinkMs) {
        replaced.push({ link: old, reason: `silent for ${((now - old.lastSeen) / 1000).toFixed(1)} s and its address came back on a new port (NAT re-bind)` });
      }
    }
    for (const { link: old } of replaced) this.removeLink(old, now);
    if (group.links.size >= this.limits.maxLinksPerGroup) {
      // Full: make room by dropping the most silent link, if it is stale; else refuse.
      let stalest: Link | undefined;
      for (const l of group.links.values()) if (!stalest || l.lastSeen < stalest.lastSeen) stalest = l;
      if (!stalest || now - stalest.lastSeen < this.staleLinkMs) return this.refuse('group_full');
      this.removeLink(stalest, now);
      replaced.push({ link: stalest, reason: `silent for ${((now - stalest.lastSeen) / 1000).toFixed(1)} s; its place went to a new link of the full group` });
    }
    const link: Link = {
      key,
      address,
      group,
      registeredAt: now,
      lastSeen: now,
      packets: 0,
      bytes: 0,
      ack: newSrtlaAck(),
      ackCount: 0,
      rttMs: null,
      rttSource: null,
    };
    group.links.set(key, link);
    group.emptySince = null;
    group.everJoined = true;
    this.links.set(key, link);
    this.counters.answered += 1;
    return { action: 'registered', reply: REG3, link, joined: true, replaced };
  }

  /**
   * Every group slot is taken: give up the oldest group nobody joined (a REG1 flood), else the oldest
   * group without live SRT traffic, so a sender that is streaming is never pushed out by one that
   * is not. New groups keep their slot while their SRT handshake is under way. Returns the group to
   * give up, or undefined when every group deserves its slot.
   */
  private makeRoom(now: number): Group | undefined {
    let unjoined: Group | undefined;
    let idle: Group | undefined;
    for (const g of this.groups.values()) {
      if (!g.everJoined && now - g.createdAt > 1000 && (!unjoined || g.createdAt < unjoined.createdAt)) unjoined = g;
      const live = g.srtAnsweredAt !== null && now - g.srtAnsweredAt < LIVE_GROUP_MS;
      if (!live && now - g.createdAt > NEW_GROUP_GRACE_MS && (!idle || g.createdAt < idle.createdAt)) idle = g;
    }
    return unjoined ?? idle;
  }

  /** Removes a group and its links at once; returns the links. */
  private removeGroup(group: Group): Link[] {
    const links = [...group.links.values()];
    for (const link of links) this.links.delete(link.key);
    group.links.clear();
    group.lastLink = undefined;
    this.groups.delete(group.id.toString('hex'));
    return links;
  }

  private noteAckSent(group: Group, datagram: Uint8Array, now: number): void {
    const i = group.ackNext;
    group.ackNumbers[i] = srtAckNumber(datagram);
    group.ackSentAt[i] = now;
    group.ackNext = (i + 1) % ACK_RING;
  }

  private timeAckAck(group: Group, link: Link, datagram: Uint8Array, now: number): void {
    if (link.rttSource === 'keepalive') return; // the sender's own measurement is better
    const ackNo = srtAckNumber(datagram);
    for (let i = 0; i < ACK_RING; i++) {
      const sentAt = group.ackSentAt[i] as number;
      if (sentAt >= 0 && group.ackNumbers[i] === ackNo) {
        const sample = Math.max(0, now - sentAt);
        link.rttMs = link.rttMs === null ? sample : Math.round((link.rttMs * 7 + sample) / 8);
        link.rttSource = 'ackack';
        group.ackSentAt[i] = -1;
        return;
      }
    }
  }

  private removeLink(link: Link, now: number): void {
    const group = link.group;
    group.links.delete(link.key);
    this.links.delete(link.key);
    if (group.lastLink === link) group.lastLink = undefined;
    if (group.links.size === 0) group.emptySince ??= now;
  }

  private refuse(reason: DropReason): Outcome {
    this.count(reason);
    return { action: 'reply', data: REG_ERR };
  }

  private drop(reason: DropReason): Outcome {
    this.count(reason);
    return { action: 'drop', reason };
  }
}
