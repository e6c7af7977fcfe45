// Owns the Docker socket: finds OBS's container, restarts it, and turns the engine's events about it
// into `process` events (kind 'container').
/// <reference path="./dockerode.d.ts" />
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { ChildEvent, Logger } from '@irlkit/shared';
import type Docker from 'dockerode';

export const DOCKER_SOCKET = '/var/run/docker.sock';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
/**
 * The container's events are OBS's (`child: 'obs'`), whatever the container is called: the watchdog's own
 * restarts and the desktop service's supervisor name OBS so too, and the watchdog's startup grace and the
 * dashboard's container line go by that name.
 */
const OBS_CHILD = 'obs';

export class DockerUnavailableError extends Error {
  override name = 'DockerUnavailableError';
}

export interface ObsContainerOptions {
  /** The compose service (in this container's own compose project) or the container's name or id. */
  container: string;
  log: Logger;
  onEvent(event: ChildEvent): void;
  socketPath?: string;
}

/** Maps an engine event to a child event; undefined for the ones not worth telling. */
export function containerEvent(
  child: string,
  message: { Action?: string; status?: string; Actor?: { Attributes?: Record<string, string> } },
): ChildEvent | undefined {
  const action = message.Action ?? message.status ?? '';
  const attributes = message.Actor?.Attributes ?? {};
  const base = { child, pid: null, exitCode: null, signal: null, restartInMs: null, detail: null };
  if (action === 'start') return { ...base, event: 'started' };
  if (action === 'restart') return { ...base, event: 'restarting' };
  if (action === 'stop') return { ...base, event: 'stopped' };
  if (action === 'die') {
    const code = Number(attributes.exitCode);
    return { ...base, event: 'exited', exitCode: Number.isInteger(code) ? code : null };
  }
  if (action === 'oom') return { ...base, event: 'unhealthy', detail: 'out of memory' };
  if (action.startsWith('health_status')) {
    const status = action.split(':')[1]?.trim();
    if (status === 'healthy') return { ...base, event: 'healthy' };
    if (status === 'unhealthy') return { ...base, event: 'unhealthy' };
  }
  return undefined;
}

export class ObsContainer {
  private client: Promise<Docker> | undefined;
  private events: Readable | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly options: ObsContainerOptions) {}

  /**
   * The engine's client, loaded on first use: dockerode (with ssh2 below it) costs a process about 23 MB,
   * which a bridge that never uses Docker (the native runner) should not carry.
   */
  private docker(): Promise<Docker> {
    this.client ??= import('dockerode').then(({ default: Client }) => new Client({ socketPath: this.options.socketPath ?? DOCKER_SOCKET }));
    return this.client;
  }

  /** Reads the current state, then follows the container's events until stopped. */
  async start(): Promise<void> {
    this.stopped = false;
    try {
      const info = await (await this.resolve()).inspect();
      const health = info.State.Health?.Status;
      const event = health === 'healthy' || health === 'unhealthy' ? health : info.State.Running ? 'started' : 'exited';
      this.options.onEvent({
        child: OBS_CHILD,
        event,
        pid: info.State.Pid || null,
        exitCode: info.State.Running ? null : info.State.ExitCode,
        signal: null,
        restartInMs: null,
        detail: `state ${info.State.Status}`,
      });
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not read the OBS container');
    }
    await this.follow();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.events?.destroy();
    this.events = undefined;
  }

  /** Restarts the container (or starts it, if it is not running). */
  async restart(): Promise<void> {
    const container = await this.resolve();
    const info = await container.inspect().catch((error: Error) => {
      throw new DockerUnavailableError(`could not inspect the OBS container ${this.options.container}: ${error.message}`);
    });
    if (info.State.Running) await container.restart({ t: 5 });
    else await container.start();
  }

  /** This container's compose project, if the bridge runs as a compose service of this engine. */
  private async composeProject(): Promise<string | undefined> {
    try {
      const self = await (await this.docker()).getContainer(hostname()).inspect();
      return self.Config.Labels?.[COMPOSE_PROJECT];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES' || (error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new DockerUnavailableError(`cannot use the Docker socket (${(error as Error).message}); mount /var/run/docker.sock and set DOCKER_GID`);
      }
      return undefined; // not running in a container of this engine: names are looked up directly
    }
  }

  /** Finds the container: first as a service of this container's compose project, then by name. */
  private async resolve() {
    const { container } = this.options;
    const project = await this.composeProject();
    const docker = await this.docker();
    if (project) {
      const found = await docker.listContainers({ all: true, filters: { label: [`${COMPOSE_PROJECT}=${project}`, `${COMPOSE_SERVICE}=${container}`] } });
      if (found[0]) return docker.getContainer(found[0].Id);
    }
    return docker.getContainer(container);
  }

  /**
   * Which engine events are OBS's: by compose service when there is a project, so a container that
   * compose re-creates (a new id) is still followed; by name otherwise.
   */
  private async eventFilters(): Promise<Record<string, string[]>> {
    const project = await this.composeProject();
    if (project) return { type: ['container'], label: [`${COMPOSE_PROJECT}=${project}`, `${COMPOSE_SERVICE}=${this.options.container}`] };
    return { type: ['container'], container: [this.options.container] };
  }

  private async follow(): Promise<void> {
    if (this.stopped) return;
    const retry = () => {
      this.events = undefined;
      if (this.stopped || this.retryTimer) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.follow();
      }, 2000);
    };
    try {
      const stream = await (await this.docker()).getEvents({ filters: await this.eventFilters() });
      if (this.stopped) {
        stream.destroy();
        return;
      }
      this.events = stream;
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
          if (!line) continue;
          try {
            const event = containerEvent(OBS_CHILD, JSON.parse(line));
            if (event) this.options.onEvent(event);
          } catch (error) {
            this.options.log.debug({ err: error, line }, 'unreadable docker event');
          }
        }
      });
      stream.once('error', retry);
      stream.once('end', retry);
      stream.once('close', retry);
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not follow the OBS container; retrying');
      retry();
    }
  }
}
