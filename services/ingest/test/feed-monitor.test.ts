// FeedMonitor on a fake clock: every transition, exact stall timing, the sliding bitrate.
import { describe, expect, it } from 'vitest';
import { type Clock, type FeedLinkEvent, FeedMonitor } from '../src/srt/feed-monitor.ts';

function fakeClock() {
  let now = 1_000_000;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let nextId = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const due = timers[0];
      if (!due || due.at > end) break;
      timers.shift();
      now = due.at;
      due.fn();
    }
    now = end;
  };
  return { clock, advance, now: () => now };
}

function setup() {
  const t = fakeClock();
  const events: FeedLinkEvent[] = [];
  const monitor = new FeedMonitor({ stallTimeoutMs: 500, disconnectTimeoutMs: 5000, bitrateWindowMs: 1000 }, t.clock, (e) => events.push(e));
  /** ~2.6 Mbit/s: one 1316-byte packet every 4 ms. */
  const send = (ms: number) => {
    for (let i = 0; i < ms; i += 4) {
      monitor.onDatagram('10.0.0.1:5000', 1316, 'data');
      t.advance(4);
    }
  };
  return { t, events, monitor, send };
}

describe('FeedMonitor', () => {
  it('connects only once srt-live-transmit accepted the connection and data flows', () => {
    const { monitor, events, send } = setup();
    monitor.onDatagram('10.0.0.1:5000', 0, 'control'); // handshake
    expect(events).toEqual([]);
    monitor.onSourceAccepted();
    expect(events).toEqual([]); // no data yet
    send(20);
    expect(events.map((e) => e.event)).toEqual(['connected']);
    expect(events[0]?.peer).toBe('10.0.0.1:5000');
  });

  it("once a sender is accepted, a stranger's packets neither keep the feed alive nor end it", () => {
    const { monitor, events, t } = setup();
    const realSource = 40001;
    const strangerSource = 40002;
    monitor.onDatagram('10.0.0.1:5000', 0, 'control', realSource);
    monitor.onDatagram('6.6.6.6:1', 0, 'control', strangerSource); // a handshake flood's last word
    monitor.onSourceAccepted();
    // Until srt-live-transmit answers someone with an ACK, nobody's data connects the feed.
    monitor.onDatagram('6.6.6.6:1', 1316, 'data', strangerSource);
    expect(events).toEqual([]);
    monitor.onListenerAnswer(realSource);
    for (let i = 0; i < 100; i++) {
      monitor.onDatagram('10.0.0.1:5000', 1316, 'data', realSource);
      t.advance(4);
    }
    expect(events.map((e) => e.event)).toEqual(['connected']);
    // A forged SRT shutdown from another address changes nothing.
    monitor.onShutdown('sender 6.6.6.6:1 closed the connection', strangerSource);
    expect(monitor.feedState).toBe('connected');
    // The real sender dies; a stranger's data-looking packets do not hide the stall.
    for (let i = 0; i < 200; i++) {
      monitor.onDatagram('6.6.6.6:1', 1316, 'data', strangerSource);
      t.advance(4);
    }
    expect(events.map((e) => e.event)).toEqual(['connected', 'stalled']);
    expect(events[1]?.peer).toBe('10.0.0.1:5000');
    expect(monitor.foreignDatagrams).toBe(201);
    // The accepted sender's own shutdown ends the feed at once.
    monitor.onShutdown('sender 10.0.0.1:5000 closed the connection', realSource);
    expect(events.map((e) => e.event)).toEqual(['connected', 'stalled', 'disconnected']);
  });

  it('knows the accepted sender when its ACKs went out before the "Accepted" line was read', () => {
    const { monitor, events } = setup();
    monitor.onListenerAnswer(40001);
    monitor.onSourceAccepted();
    monitor.onDatagram('6.6.6.6:1', 1316, 'data', 40002);
    monitor.onDatagram('10.0.0.1:5000', 1316, 'data', 40001);
    expect(events.map((e) => [e.event, e.peer])).toEqual([['connected', '10.0.0.1:5000']]);
    expect(monitor.isAcceptedSource(40001)).toBe(true);
    expect(monitor.foreignDatagrams).toBe(1);
  });

  it('a late answer to the sender that just left does not name the next one (whose feed would never count)', () => {
    const { monitor, events, t } = setup();
    const first = 40001;
    const next = 40002;
    monitor.onConnectionRequest(first);
    monitor.onSourceAccepted();
    monitor.onListenerAnswer(first);
    monitor.onDatagram('10.0.0.1:5000', 1316, 'data', first);
    monitor.onShutdown('sender 10.0.0.1:5000 closed the connection', first);
    monitor.onDisconnected('SRT connection closed'); // srt-live-transmit's own line, read a moment later
    t.advance(1000);
    // An ACK srt-live-transmit sent the first sender before it read the goodbye, read only now.
    monitor.onListenerAnswer(first);
    monitor.onConnectionRequest(next);
    monitor.onSourceAccepted(); // its "Accepted" line came before any answer to it
    monitor.onListenerAnswer(next);
    for (let i = 0; i < 10; i++) {
      monitor.onDatagram('10.0.0.2:6000', 1316, 'data', next);
      t.advance(4);
    }
    expect(events.map((e) => [e.event, e.peer])).toEqual([
      ['connected', '10.0.0.1:5000'],
      ['disconnected', '10.0.0.1:5000'],
      ['connected', '10.0.0.2:6000'],
    ]);
    expect(monitor.isAcceptedSource(next)).toBe(true);
    expect(monitor.foreignDatagrams).toBe(0);
    // The first sender may come back from the same port: its new connection is its own again.
    monitor.onShutdown('sender 10.0.0.2:6000 closed the connection', next);
    monitor.onConnectionRequest(first);
    monitor.onListenerAnswer(first);
    monitor.onSourceAccepted();
    monitor.onDatagram('10.0.0.1:5000', 1316, 'data', first);
    expect(monitor.isAcceptedSource(first)).toBe(true);
    expect(events.at(-1)?.event).toBe('connected');
  });

  it('reports a stall exactly stallTimeoutMs after the last data packet, and the resume', () => {
    const { monitor, events, send, t } = setup();
    monitor.onSourceAccepted();
    send(1000);
    const last = t.now() - 4;
    t.advance(495);
    expect(events.map((e) => e.event)).toEqual(['connected']);
    t.advance(100);
    const stalled = events[1] as FeedLinkEvent;
    expect(stalled.event).toBe('stalled');
    expect(stalled.ts - last).toBe(500);
    expect(stalled.lastPacketTs).toBe(last);
    send(8);
    expect(events.at(-1)?.event).toBe('resumed');
  });

  it('a connection accepted just after the last one died gets a whole stall timeout for its first data, not what the dead one left', () => {
    const { monitor, events, send, t } = setup();
    monitor.onSourceAccepted();
    send(1000);
    monitor.onDisconnected('srt-live-transmit exited'); // the relay was killed; a restarted one accepts the sender again
    t.advance(450);
    monitor.onSourceAccepted();
    expect(events.map((e) => e.event)).toEqual(['connected', 'disconnected', 'connected']);
    t.advance(450); // 900 ms after the last data, 450 ms after the accept
    expect(events).toHaveLength(3);
    send(8);
    t.advance(200);
    expect(events.map((e) => e.event)).toEqual(['connected', 'disconnected', 'connected']);
    // A new connection that never sends stalls one timeout after it was accepted.
    monitor.onDisconnected('srt-live-transmit exited');
    t.advance(100);
    monitor.onSourceAccepted();
    const acceptedAt = t.now();
    t.advance(600);
    expect(events.at(-1)?.event).toBe('stalled');
    expect((events.at(-1) as FeedLinkEvent).ts - acceptedAt).toBe(500);
  });

  it('control packets alone (keepalives) do not keep a feed from stalling', () => {
    const { monitor, events, send, t } = setup();
    monitor.onSourceAccepted();
    send(100);
    for (let i = 0; i < 10; i++) {
      monitor.onDatagram('10.0.0.1:5000', 0, 'control');
      t.advance(100);
    }
    expect(events.map((e) => e.event)).toEqual(['connected', 'stalled']);
  });

  it('disconnects when told, when nothing at all arrives for the disconnect timeout, and reconnects', () => {
    const { monitor, events, send, t } = setup();
    monitor.onSourceAccepted();
    send(100);
    t.advance(5000);
    expect(events.map((e) => e.event)).toEqual(['connected', 'stalled', 'disconnected']);
    expect(events[2]?.reason).toMatch(/no packet for 5/);
    send(100); // data without a new accepted connection (e.g. to a restarted relay) is not a connection
    expect(events).toHaveLength(3);
    monitor.onSourceAccepted();
    expect(events.at(-1)?.event).toBe('connected');
    monitor.onDisconnected('SRT connection closed');
    monitor.onDisconnected('again');
    expect(events.map((e) => e.event)).toEqual(['connected', 'stalled', 'disconnected', 'connected', 'disconnected']);
  });

  it('measures the receive rate over a sliding window', () => {
    const { monitor, send, t } = setup();
    monitor.onSourceAccepted();
    send(2000);
    expect(monitor.bitrateKbps()).toBeGreaterThan(2500);
    expect(monitor.bitrateKbps()).toBeLessThan(2750);
    t.advance(500);
    expect(monitor.bitrateKbps()).toBeLessThan(1400);
    t.advance(600);
    expect(monitor.bitrateKbps()).toBe(0);
  });
});
