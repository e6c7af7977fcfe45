// Several streams on one host: the list of streams (IRL_STREAMS), validated at start and again whenever its
// file changes (reconcileStreams says what a new list adds and removes). Without it, the single stream of
// IRL_STREAM_ID and SRT_STREAM_KEY is the list, so a one-stream setup keeps working unchanged.
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
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
  /** Its place among the streams: its derived ports (ingest's, the runner's) are the base port + slot (× 2 for ingest's). */
  slot: number;
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
    json = JSON.parse(streamListFile(text) ? readFileSync(text, 'utf8') : text);
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

/** The file IRL_STREAMS names, or undefined when it holds the list inline (a list that can change at runtime is a file's). */
export function streamListFile(raw: string | undefined): string | undefined {
  const text = raw?.trim() ?? '';
  return text === '' || text.startsWith('[') ? undefined : text;
}

/**
 * IRL_STREAMS as an environment variable: unset or empty is no list (the single stream); a bad list names its
 * problems. `file` is the path it was read from (reloaded when it changes), undefined for an inline list.
 */
export const streamListEnv = () =>
  z
    .string()
    .optional()
    .transform((raw, ctx): { streams: StreamDefinition[]; file: string | undefined } | undefined => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const parsed = parseStreamList(raw);
      if (parsed.ok) return { streams: parsed.streams, file: streamListFile(raw) };
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
  if (!list) return [{ id: single.id, srtKey: single.srtKey, rtmp: undefined, slot: 0, relayPort: ports.relayPort, outputPort: ports.outputPort }];
  return reconcileStreams([], list, ports).streams;
}

/** Whether a stream ingest serves is the same after a reload: its key and loopback ports (its RTMP target is OBS's business). */
export const sameRoute = (before: StreamRoute, after: StreamRoute) =>
  before.srtKey === after.srtKey && before.relayPort === after.relayPort && before.outputPort === after.outputPort;

/**
 * Every stream's slot (its place in the port ranges): a stream listed before keeps its own, a new one takes the
 * lowest slot no listed stream holds. The one rule for ingest, the native runner and the compose generator.
 */
export function assignSlots(ids: readonly string[], previous: Readonly<Record<string, number>>): Record<string, number> {
  const slots: Record<string, number> = {};
  for (const id of ids) if (previous[id] !== undefined) slots[id] = previous[id];
  const taken = new Set(Object.values(slots));
  for (const id of ids) {
    if (slots[id] !== undefined) continue;
    let slot = 0;
    while (taken.has(slot)) slot += 1;
    slots[id] = slot;
    taken.add(slot);
  }
  return slots;
}

/**
 * A new list against the streams running now. A stream that is the same (`same`, by default its key and ports)
 * keeps its slot and so its ports: it is neither added nor removed, and nothing of it is touched. A stream that
 * changed (a new key) is removed and added again, in its old slot when that is still free; a new stream takes
 * the lowest free slot. Pure: ingest and the runner, reading the same files, agree on every stream's ports.
 */
export function reconcileStreams(
  previous: readonly StreamRoute[],
  list: readonly StreamDefinition[],
  ports: { relayPort: number; outputPort: number },
  same: (before: StreamRoute, after: StreamRoute) => boolean = sameRoute,
): { streams: StreamRoute[]; added: StreamRoute[]; removed: StreamRoute[] } {
  const before = new Map(previous.map((stream) => [stream.id, stream]));
  const route = (stream: StreamDefinition, slot: number): StreamRoute => ({
    id: stream.id,
    srtKey: stream.srtKey,
    rtmp: stream.rtmp ? { url: stream.rtmp.url, key: stream.rtmp.key } : undefined,
    slot,
    relayPort: stream.relayPort ?? ports.relayPort + 2 * slot,
    outputPort: stream.outputPort ?? ports.outputPort + 2 * slot,
  });
  const kept = new Set(
    list
      .filter((stream) => {
        const was = before.get(stream.id);
        return was !== undefined && same(was, route(stream, was.slot));
      })
      .map((stream) => stream.id),
  );
  // A stream that changed keeps its slot (no stream running now has it); a new one takes the lowest free.
  const slots = assignSlots(
    list.map((stream) => stream.id),
    Object.fromEntries(previous.map((stream) => [stream.id, stream.slot])),
  );
  const streams = list.map((stream) => route(stream, slots[stream.id] as number));
  return {
    streams,
    added: streams.filter((stream) => !kept.has(stream.id)),
    removed: previous.filter((stream) => !kept.has(stream.id)),
  };
}

/**
 * Calls `onChange` (once, `debounceMs` after the last event) whenever the file changes: written in place, or
 * replaced by a rename (editors and `mv` of a new file), which is why its folder is watched, not the file.
 */
export function watchStreamListFile(file: string, onChange: () => void, debounceMs = 250): { close(): void } {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
