// Several streams on one host: the list of streams (IRL_STREAMS), validated once. Without it, the
// single stream of IRL_STREAM_ID and SRT_STREAM_KEY is the list, so a one-stream setup keeps working unchanged.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const STREAM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const STREAM_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

export const streamDefinitionSchema = z.strictObject({
  /** The stream id in every subject (`irl.<id>.…`). */
  id: z.string().regex(STREAM_ID, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'),
  /** The secret a sender names in its SRT stream id (any convention ingest reads) to publish to this stream. */
  srtKey: z.string().regex(STREAM_KEY, 'must be 1-128 letters, digits, _, . or -'),
  /** Where this stream's OBS pushes the program (the platform's RTMP(S) server and stream key). */
  rtmp: z
    .strictObject({
      url: z.string().regex(/^rtmps?:\/\/\S+$/, 'must start with rtmp:// or rtmps://'),
      key: z.string().max(512).default(''),
    })
    .optional(),
  /**
   * The streamer's own dashboard password (this stream only); generated on first start when left out
   * (the runner prints it and keeps it in its secrets file).
   */
  dashboardPassword: z.string().min(12, 'must be at least 12 characters').max(512).optional(),
  /** ingest's loopback ports for this stream (srt-live-transmit's listener, and the output OBS reads); derived when left out. */
  relayPort: z.number().int().min(1).max(65535).optional(),
  outputPort: z.number().int().min(1).max(65535).optional(),
});
export type StreamDefinition = z.infer<typeof streamDefinitionSchema>;

export const streamListSchema = z
  .array(streamDefinitionSchema)
  .min(1, 'must name at least one stream')
  .max(64, 'at most 64 streams')
  .superRefine((streams, ctx) => {
    const seen = (field: 'id' | 'srtKey', label: string) => {
      const values = new Set<string>();
      streams.forEach((stream, index) => {
        if (values.has(stream[field]))
          ctx.addIssue({ code: 'custom', path: [index, field], message: `${label} "${field === 'id' ? stream.id : '…'}" is used twice` });
        values.add(stream[field]);
      });
    };
    seen('id', 'stream id');
    seen('srtKey', 'SRT key');
  });

/** One stream as ingest serves it: its id, the key that routes a sender to it (none: any sender, one stream only). */
export interface StreamRoute {
  id: string;
  srtKey: string | undefined;
  rtmp: { url: string; key: string } | undefined;
  relayPort: number;
  outputPort: number;
}

/**
 * IRL_STREAMS as written: inline JSON (`[{"id":"alice","srtKey":"…"}]`) or the path of a JSON file.
 * Returns the issues as messages naming the stream and field, for ConfigError.
 */
export function parseStreamList(raw: string): { ok: true; streams: StreamDefinition[] } | { ok: false; problems: string[] } {
  const text = raw.trim();
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith('[') ? text : readFileSync(text, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, problems: [code ? `cannot read the file ${text}: ${code}` : `is not valid JSON: ${(error as Error).message}`] };
  }
  const parsed = streamListSchema.safeParse(json);
  if (parsed.success) return { ok: true, streams: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path;
      return index === undefined ? issue.message : `stream ${Number(index) + 1}${field.length ? ` ${field.join('.')}` : ''}: ${issue.message}`;
    }),
  };
}

/** IRL_STREAMS as an environment variable: unset or empty is no list (the single stream); a bad list names its problems. */
export const streamListEnv = () =>
  z
    .string()
    .optional()
    .transform((raw, ctx): StreamDefinition[] | undefined => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const parsed = parseStreamList(raw);
      if (parsed.ok) return parsed.streams;
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    });

/**
 * The streams ingest and the runner serve, with their loopback ports: the list, or the one stream of the
 * single-stream variables. Stream n (from 0) gets relay port relayPort + 2n and output port outputPort + 2n
 * unless it names its own.
 */
export function resolveStreams(
  list: StreamDefinition[] | undefined,
  single: { id: string; srtKey: string | undefined },
  ports: { relayPort: number; outputPort: number },
): StreamRoute[] {
  const streams = list ?? [{ id: single.id, srtKey: single.srtKey }];
  return streams.map((stream, index) => ({
    id: stream.id,
    srtKey: stream.srtKey,
    rtmp: 'rtmp' in stream && stream.rtmp ? { url: stream.rtmp.url, key: stream.rtmp.key } : undefined,
    relayPort: ('relayPort' in stream && stream.relayPort) || ports.relayPort + 2 * index,
    outputPort: ('outputPort' in stream && stream.outputPort) || ports.outputPort + 2 * index,
  }));
}
