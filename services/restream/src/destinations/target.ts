// Pure pieces of one destination: where ffmpeg sends (URL + key), how its key is shown, what its
// progress lines and error lines mean. No I/O: tested on captured ffmpeg output.
import type { StoredDestination } from '@irlkit/shared';

/** The URL ffmpeg writes to and the container it writes: FLV for RTMP(S), MPEG-TS for SRT. */
export function outputTarget(destination: Pick<StoredDestination, 'url' | 'key'>): { url: string; format: 'flv' | 'mpegts' } {
  const { url, key } = destination;
  if (url.startsWith('srt://')) {
    if (!key) return { url, format: 'mpegts' };
    const separator = url.includes('?') ? '&' : '?';
    return { url: `${url}${separator}streamid=${encodeURIComponent(key)}`, format: 'mpegts' };
  }
  // RTMP(S): the key is the last path element (Twitch, YouTube and Kick give "server URL" + "stream key").
  return { url: key ? `${url.replace(/\/+$/, '')}/${key}` : url, format: 'flv' };
}

/** "host:port" of a destination URL, for messages ("refused by live.twitch.tv:1935"). */
export function destinationHost(url: string): string {
  const match = /^(rtmps?|srt):\/\/([^/?#]+)/.exec(url);
  const scheme = match?.[1] ?? 'rtmp';
  const host = match?.[2] ?? url;
  if (/:\d+$/.test(host)) return host;
  return `${host}:${scheme === 'rtmps' ? 443 : scheme === 'srt' ? '?' : 1935}`;
}

/** What the dashboard may see of a key: its last four characters. */
export function keyHint(key: string): string {
  if (!key) return '';
  return key.length <= 8 ? '…' : `…${key.slice(-4)}`;
}

/** Replaces every occurrence of the secrets (stream key, relay key) in a line meant for logs or the dashboard. */
export function redact(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('***');
  }
  return out;
}

/** One block of ffmpeg's `-progress` output (key=value lines ending with `progress=`). */
export interface ProgressSample {
  totalBytes: number;
  droppedFrames: number;
  frames: number;
  ended: boolean;
}

/** Collects `-progress` key=value lines into samples. */
export class ProgressParser {
  private block = new Map<string, string>();

  /** Feeds one line; returns a sample when the line closes a block. */
  line(text: string): ProgressSample | undefined {
    const at = text.indexOf('=');
    if (at <= 0) return undefined;
    const key = text.slice(0, at).trim();
    const value = text.slice(at + 1).trim();
    if (key !== 'progress') {
      this.block.set(key, value);
      return undefined;
    }
    const number = (k: string) => {
      const n = Number(this.block.get(k));
      return Number.isFinite(n) && n >= 0 ? n : 0;
    };
    const sample = { totalBytes: number('total_size'), droppedFrames: number('drop_frames'), frames: number('frame'), ended: value === 'end' };
    this.block = new Map();
    return sample;
  }
}

/** What ffmpeg's stderr (`-loglevel level+verbose`) said about the output connection. */
export class OutputLog {
  /** The TCP connection to the destination was made (verbose "Successfully connected to <host> port <port>"). */
  connected = false;
  /** The attempt's last error lines (redacted), oldest first. */
  readonly errors: string[] = [];

  constructor(
    private readonly host: string,
    private readonly secrets: readonly string[],
  ) {}

  line(text: string): void {
    const [hostName, port] = splitHostPort(this.host);
    if (text.includes('Successfully connected to') && text.includes(hostName) && (port === '?' || text.includes(`port ${port}`))) {
      this.connected = true;
      return;
    }
    if (!/\[(error|fatal)\]/.test(text)) return;
    this.errors.push(redact(text.replace(/^\[[^\]]*@ 0x[0-9a-f]+\] /, '').replace(/\[(error|fatal)\] /, ''), this.secrets).slice(0, 300));
    if (this.errors.length > 5) this.errors.shift();
  }
}

function splitHostPort(hostPort: string): [string, string] {
  const at = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, at).replace(/^\[|\]$/g, ''), hostPort.slice(at + 1)];
}

/**
 * Why an attempt ended, in a streamer's words. `sentBytes` is what reached the platform before the end:
 * an attempt that connected, was closed and never sent media is a publish the platform refused, which is
 * what Twitch, YouTube and Kick do with a wrong or expired stream key.
 */
export function describeEnd(attempt: {
  host: string;
  connected: boolean;
  sentBytes: number;
  errors: readonly string[];
  timedOut: 'connect' | 'stall' | null;
}): string {
  const { host, connected, sentBytes, errors, timedOut } = attempt;
  if (timedOut === 'connect') return `no answer from ${host} (unreachable or filtered?)`;
  if (timedOut === 'stall') return `${host} stopped taking data`;
  const error = errors.at(-1) ?? '';
  const all = errors.join(' | ');
  if (/certificate|verification/i.test(all)) return `TLS with ${host} failed: its certificate did not verify`;
  if (/Connection refused/i.test(error)) return `connection refused by ${host}`;
  if (/resolve|Name or service not known|not known/i.test(error)) return `cannot resolve ${host}`;
  if (/timed out|timeout/i.test(error)) return `no answer from ${host} (timed out)`;
  // Not a bare "handshake": RTMP has its own, and a platform closing it is not a TLS failure.
  if (/TLS|gnutls|pull function|push function/i.test(all) && sentBytes === 0) return `TLS with ${host} failed: ${error}`;
  if (connected && sentBytes === 0) return `${host} closed the connection when asked to publish: stream key refused?${error ? ` (${error})` : ''}`;
  if (error) return `${host}: ${error}`;
  return `the connection to ${host} ended`;
}
