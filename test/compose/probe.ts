// The host side of the NATS tap inside a compose network (bus-probe.ts, compiled here into one JavaScript
// file, runs in a container of the obs-bridge image): keeps the events the compose check and the compose faults watch, and sends
// commands. Events are stamped when they arrive, so keep the event loop free (spawn, not spawnSync)
// while timing something.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandVerb, ObsState, ProcessEvent, RecordingState, RestreamState } from '@irlkit/shared';
import { waitFor } from '@irlkit/test-kit';
import { bundle } from '../../scripts/build-services.ts';

const DOCKER = '/usr/bin/docker';

export interface BusProbeOptions {
  /** The compose project: the probe joins `<project>_default` and is named `<project>-probe`. */
  project: string;
  /** The repository root (bus-probe.ts is compiled from its test/compose). */
  root: string;
  natsUser: string;
  natsPassword: string;
  /** The obs-bridge image (for its node). */
  bridgeImage: string;
  /** The network to join (`<project>_default` by default; the swarm test's stack network). */
  network?: string;
  /** NATS's URL on that network (compose's `nats://nats:4222` by default; a cluster's comma-separated list). */
  natsUrl?: string;
  /** The stream it watches and commands (`main` by default); its container's name then carries it, and a NATS user other than the operator. */
  streamId?: string;
}

/** A command's reply: `result` is what the verb answers with (switcher.config: the settings). */
export type BusReply = { ok: boolean; error?: string; queued?: string; result?: unknown };

export type Stamped<T> = T & { receivedAt: number };

export class BusProbe {
  obsState: Stamped<ObsState> | undefined;
  restreamState: Stamped<RestreamState> | undefined;
  recordingState: Stamped<RecordingState> | undefined;
  /** Every obs.state, in arrival order. */
  readonly obsStates: Array<Stamped<ObsState>> = [];
  /** When an obs.state last said OBS is unreachable. */
  lastUnreachableAt = 0;
  readonly processEvents: Array<Stamped<ProcessEvent>> = [];
  readonly log: string[] = [];
  /** The services whose heartbeat was heard, with the last one's `ok`. */
  readonly heartbeats = new Map<string, boolean>();
  private readonly replies = new Map<number, (reply: BusReply) => void>();
  private nextId = 1;
  private ready = false;
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
    private readonly compiledDir: string,
  ) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onLine(line));
    child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
  }

  static async start(options: BusProbeOptions): Promise<BusProbe> {
    const user = options.natsUser === 'operator' ? '' : `-${options.natsUser.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
    const name = `${options.project}-probe${options.streamId ? `-${options.streamId}${user}` : ''}`;
    spawnSync(DOCKER, ['rm', '-f', name], { stdio: 'ignore' }); // one left over by an interrupted run
    // The images hold compiled services only: the probe goes in compiled too, with everything it imports.
    const compiledDir = mkdtempSync(join(tmpdir(), 'irlkit-bus-probe-'));
    await bundle(join(options.root, 'test/compose/bus-probe.ts'), join(compiledDir, 'bus-probe.js'));
    chmodSync(compiledDir, 0o755); // the image's user reads it
    const child = spawn(
      DOCKER,
      [
        'run',
        '--rm',
        '-i',
        '--name',
        name,
        '--network',
        options.network ?? `${options.project}_default`,
        '--dns',
        '127.0.0.1',
        '-e',
        `NATS_URL=${options.natsUrl ?? 'nats://nats:4222'}`,
        '-e',
        `NATS_USER=${options.natsUser}`,
        '-e',
        `NATS_PASSWORD=${options.natsPassword}`,
        ...(options.streamId ? ['-e', `IRL_STREAM_ID=${options.streamId}`] : []),
        '-v',
        `${compiledDir}:/probe:ro`,
        '--entrypoint',
        'node',
        options.bridgeImage,
        '/probe/bus-probe.js',
      ],
      { cwd: options.root, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const probe = new BusProbe(child, name, compiledDir);
    await waitFor(() => probe.ready, `the NATS probe to connect (${probe.output})`, 60_000, 100);
    return probe;
  }

  private onLine(line: string): void {
    let message: { ready?: boolean; event?: string; payload?: unknown; reply?: number; ok?: boolean; error?: string; queued?: string; result?: unknown };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.ready) this.ready = true;
    if (message.reply !== undefined) {
      this.replies.get(message.reply)?.({
        ok: Boolean(message.ok),
        ...(message.error ? { error: message.error } : {}),
        ...(message.queued ? { queued: message.queued } : {}),
        ...(message.result !== undefined ? { result: message.result } : {}),
      });
      this.replies.delete(message.reply);
    }
    if (message.event === 'obs.state') {
      this.obsState = { ...(message.payload as ObsState), receivedAt: Date.now() };
      this.obsStates.push(this.obsState);
      if (!this.obsState.reachable) this.lastUnreachableAt = this.obsState.receivedAt;
    }
    if (message.event === 'restream.state') this.restreamState = { ...(message.payload as RestreamState), receivedAt: Date.now() };
    if (message.event === 'recording.state') this.recordingState = { ...(message.payload as RecordingState), receivedAt: Date.now() };
    if (message.event === 'heartbeat') {
      const beat = message.payload as { service: string; ok: boolean };
      this.heartbeats.set(beat.service, beat.ok);
    }
    if (message.event === 'process') this.processEvents.push({ ...(message.payload as ProcessEvent), receivedAt: Date.now() });
    if (message.event === 'log') {
      const entry = message.payload as { source: string; message: string };
      this.log.push(`${new Date().toISOString().slice(11, 23)} ${entry.source}: ${entry.message}`);
    }
  }

  request(verb: CommandVerb, payload: object = {}): Promise<BusReply> {
    const id = this.nextId++;
    return new Promise((resolveReply, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${verb} within 15 s`)), 15_000);
      this.replies.set(id, (reply) => {
        clearTimeout(timer);
        resolveReply(reply);
      });
      this.child.stdin?.write(`${JSON.stringify({ id, verb, payload })}\n`);
    });
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    await Promise.race([new Promise((r) => this.child.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) spawnSync(DOCKER, ['rm', '-f', this.name], { stdio: 'ignore' });
    rmSync(this.compiledDir, { recursive: true, force: true });
  }
}
