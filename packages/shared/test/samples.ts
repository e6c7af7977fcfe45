// One valid sample of every event payload.
import { DEFAULT_SWITCHER_SETTINGS, type EventName, type EventPayload } from '../src/index.ts';

const ts = 1_764_000_000_000;
const counters = { received: 10, lost: 0, dropped: 0, retransmitted: 1 };

export const validEvents: { [N in EventName]: EventPayload<N> } = {
  'ingest.stats': {
    ts,
    connected: true,
    peer: '127.0.0.1:50000',
    bitrateKbps: 2500,
    rttMs: 12,
    receiveBufferMs: 1900,
    lastPacketAgeMs: 3,
    totals: counters,
    deltas: counters,
  },
  'ingest.link': { ts, event: 'stalled', peer: '127.0.0.1:50000', reason: 'no packet for 500 ms', lastPacketTs: ts - 500 },
  'ingest.srtla': {
    ts,
    groups: 1,
    links: [{ group: 'ab12', address: '10.0.0.2:4000', bitrateKbps: 1200, share: 0.5, packets: 100, lastSeenMsAgo: 20, registeredAt: ts, rttMs: null }],
    drops: { unregistered: 2 },
  },
  'obs.state': {
    ts,
    reachable: true,
    streaming: true,
    recording: false,
    streamTimecode: '00:01:02.000',
    recordTimecode: null,
    programScene: 'Live',
    scenes: ['Live', 'Low', 'Offline'],
    micMuted: false,
    outputKbps: 2500,
    droppedFrames: 0,
    skippedFrames: 0,
    totalFrames: 100,
    cpuPercent: 12.5,
    error: null,
  },
  'obs.screenshot': { ts, format: 'jpeg', width: 640, height: 360, data: '/9j/4AAQSkZJRg==' },
  'switcher.state': {
    ts,
    mode: 'auto',
    state: 'live',
    since: ts,
    reason: 'feed healthy',
    scene: 'Live',
    settings: DEFAULT_SWITCHER_SETTINGS,
    scenes: { live: 'Live', low: 'Low', offline: 'Offline' },
  },
  log: { ts, level: 'info', source: 'switcher', message: 'switched to Live' },
  process: {
    ts,
    service: 'ingest',
    child: 'srt-live-transmit',
    kind: 'process',
    event: 'exited',
    pid: 42,
    exitCode: 1,
    signal: null,
    restartInMs: 200,
    detail: null,
  },
  heartbeat: { ts, service: 'ingest', pid: 42, uptimeMs: 1000, ok: true, detail: { srt: 'listening' } },
};
