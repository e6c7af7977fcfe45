// SRT stream ids as senders write them, and whether one may publish here. Pure.
// Conventions: SRT Live Server's `publish/<app>/<name>` (its `domain_publisher/app/stream`), OpenIRL's
// `live_<key>` (publisher keys of OpenIRL's srt-live-server; `play_<key>` are its players), MediaMTX's
// `publish:<path>[:user:pass]` and the SRT access-control form `#!::r=<path>,m=publish` (SRT's
// docs/features/access-control.md: keys r = resource, m = mode, u = user), or a bare key.

export type StreamIdConvention = 'srt-live-server' | 'openirl' | 'mediamtx' | 'access-control' | 'bare' | 'none';

export interface ParsedStreamId {
  convention: StreamIdConvention;
  /** The name the key is compared with: SLS's stream name, OpenIRL's key, MediaMTX's path, the bare key. */
  name: string;
  /** The sender wants to read, not publish (MediaMTX `read:`, access control `m=request`, OpenIRL `play_`). */
  reads: boolean;
}

export function parseStreamId(streamId: string): ParsedStreamId {
  const sid = streamId.trim();
  if (sid === '') return { convention: 'none', name: '', reads: false };
  if (sid.startsWith('#!::')) {
    const fields = new Map(
      sid
        .slice(4)
        .split(',')
        .map((kv) => {
          const i = kv.indexOf('=');
          return (i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)]) as [string, string];
        }),
    );
    const mode = fields.get('m') ?? 'request';
    return { convention: 'access-control', name: fields.get('r') ?? '', reads: mode !== 'publish' };
  }
  const mediamtx = /^(publish|read):([^:]*)/.exec(sid);
  if (mediamtx) return { convention: 'mediamtx', name: mediamtx[2] as string, reads: mediamtx[1] === 'read' };
  const sls = /^([^/]+)\/([^/]+)\/(.+)$/.exec(sid);
  if (sls) return { convention: 'srt-live-server', name: sls[3] as string, reads: sls[1] !== 'publish' };
  const openirl = /^(live|play)_(.+)$/.exec(sid);
  if (openirl) return { convention: 'openirl', name: openirl[2] as string, reads: openirl[1] === 'play' };
  return { convention: 'bare', name: sid, reads: false };
}

/** Why a sender with this stream id may not publish, or null when it may. No key configured: any id publishes. */
export function refusal(streamId: string, streamKey: string | undefined): string | null {
  if (!streamKey) return null;
  const parsed = parseStreamId(streamId);
  if (parsed.convention === 'none') return 'no stream id sent (a stream key is configured)';
  if (parsed.reads) return `stream id "${streamId.slice(0, 100)}" asks to read; this door only takes publishers`;
  if (parsed.name !== streamKey) return `wrong stream key in stream id "${redact(streamId, parsed.name)}"`;
  return null;
}

/** The id with its key part hidden, for logs and the timeline (a near-miss key is still half a secret). */
export function redact(streamId: string, name: string): string {
  const shown = name.length > 4 ? `${name.slice(0, 2)}…${name.slice(-1)}` : '…';
  return (name ? streamId.replace(name, shown) : streamId).slice(0, 120);
}

/**
 * The stream a sender with this SRT stream id publishes to, or why it may not. One stream without a key
 * takes any id; otherwise the key in the id picks the stream.
 */
export type StreamRouting = { stream: string; refused?: undefined } | { stream?: undefined; refused: string };

export function routeStreamId(streamId: string, streams: readonly { id: string; srtKey: string | undefined }[]): StreamRouting {
  const only = streams.length === 1 ? streams[0] : undefined;
  if (only) {
    const reason = refusal(streamId, only.srtKey);
    return reason === null ? { stream: only.id } : { refused: reason };
  }
  for (const stream of streams) if (stream.srtKey && refusal(streamId, stream.srtKey) === null) return { stream: stream.id };
  const parsed = parseStreamId(streamId);
  if (parsed.convention === 'none') return { refused: 'no stream id sent (each stream has a key)' };
  if (parsed.reads) return { refused: `stream id "${streamId.slice(0, 100)}" asks to read; this door only takes publishers` };
  return { refused: `no stream has the key in stream id "${redact(streamId, parsed.name)}"` };
}
