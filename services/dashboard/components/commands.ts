'use client';
// Commands from the page: a POST to /api/commands/<verb> (the server sends it on NATS and waits for
// the reply), and the last reply as a line the streamer reads.
import type { CommandVerb } from '@irlkit/shared';
import { useCallback, useState } from 'react';

export interface CommandReply {
  text: string;
  ok: boolean;
}

/** The server's answer: done, done later (`queued`, e.g. "OBS is restarting"), or why not. */
export interface CommandResult {
  ok: boolean;
  error?: string;
  queued?: string;
}

export async function sendCommand(verb: CommandVerb, body: object = {}): Promise<CommandResult> {
  const response = await fetch(`/api/commands/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }))) as CommandResult;
}

export type Command = (verb: CommandVerb, body?: object, label?: string) => Promise<void>;

/** `command(verb, body, label)` and the reply to the last one ("label…", "label: done", "label: queued: …", "label: why not"). */
export function useCommands(): { command: Command; reply: CommandReply | null } {
  const [reply, setReply] = useState<CommandReply | null>(null);
  const command = useCallback<Command>(async (verb, body = {}, label = verb) => {
    setReply({ text: `${label}…`, ok: true });
    const result = await sendCommand(verb, body);
    // A command accepted while OBS is down says so ("queued: OBS is restarting"): it is carried out on its return.
    setReply(result.ok ? { text: `${label}: ${result.queued ?? 'done'}`, ok: true } : { text: `${label}: ${result.error ?? 'failed'}`, ok: false });
  }, []);
  return { command, reply };
}
