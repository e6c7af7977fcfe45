// Request and reply of every command on irl.<s>.cmd.<verb>.
import { z } from 'zod';
import type { CommandVerb } from '../subjects.ts';
import { sceneName } from './obs.ts';
import { restreamCommandSchemas } from './restream.ts';
import { switcherConfigPatch, switcherMode, switcherSettings, switcherState } from './switcher.ts';

const empty = z.strictObject({});
const none = z.strictObject({}).optional();

export const commandSchemas = {
  'stream.start': { request: empty, result: none },
  'stream.stop': { request: empty, result: none },
  'audio.mute': {
    request: z.strictObject({
      /** OBS input to (un)mute; the configured microphone when omitted. */
      input: z.string().min(1).max(256).optional(),
      muted: z.boolean(),
    }),
    result: z.strictObject({ input: z.string(), muted: z.boolean() }).optional(),
  },
  'scene.set': { request: z.strictObject({ scene: sceneName }), result: none },
  'switcher.mode': { request: z.strictObject({ mode: switcherMode }), result: switcherState.optional() },
  /**
   * Any subset of the streamer's settings (thresholds, windows, options); the scenes and the feed input
   * are the deployment's configuration (OBS_SCENE_*, OBS_FEED_INPUT), not settings a command changes.
   */
  'switcher.config': { request: switcherConfigPatch, result: switcherSettings.optional() },
  'obs.restart': { request: empty, result: none },
  /** Restarts OBS's feed input (the media source reading ingest's output): chat's !fix / !refresh. */
  'feed.restart': { request: empty, result: none },
  ...restreamCommandSchemas,
} as const satisfies Record<CommandVerb, { request: z.ZodType; result: z.ZodType }>;

export type CommandRequest<V extends CommandVerb> = z.infer<(typeof commandSchemas)[V]['request']>;
export type CommandResult<V extends CommandVerb> = z.infer<(typeof commandSchemas)[V]['result']>;
/** `queued`: accepted while OBS is unreachable, carried out once it answers again (says why). */
export type CommandReply<V extends CommandVerb> = { ok: true; result?: CommandResult<V>; queued?: string } | { ok: false; error: string };

export function commandReplySchema<V extends CommandVerb>(verb: V) {
  return z.union([
    z.strictObject({ ok: z.literal(true), result: commandSchemas[verb].result, queued: z.string().min(1).max(200).optional() }),
    z.strictObject({ ok: z.literal(false), error: z.string().min(1).max(2000) }),
  ]);
}
