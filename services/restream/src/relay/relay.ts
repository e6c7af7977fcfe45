// The relay OBS streams the program to: nginx with the RTMP module as a supervised child, and the
// loopback HTTP door nginx asks before it takes a publisher (the relay key) and tells when it leaves.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildEvent, type Logger, Supervisor, sameSecret } from '@irlkit/shared';

/** The RTMP application OBS publishes to: rtmp://<relay>:<port>/program/<relay key>. */
export const RELAY_APP = 'program';

export interface RelaySettings {
  nginx: string;
  rtmpModule: string;
  bind: string;
  port: number;
  key: string;
}

export interface RelayEvents {
  /** A publisher with the right key started (true) or ended (false). */
  onProgram(live: boolean): void;
  onChildEvent(event: ChildEvent): void;
}

const MAX_HOOK_BODY_BYTES = 8192;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_HOOK_BODY_BYTES) {
        reject(new Error('hook body too large'));
        request.destroy();
      }
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

export class Relay {
  private hooks: Server | undefined;
  private supervisor: Supervisor | undefined;
  private readonly dir = join(tmpdir(), `irlkit-relay-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  private publisherLive = false;

  constructor(
    private readonly settings: RelaySettings,
    private readonly events: RelayEvents,
    private readonly log: Logger,
  ) {}

  /** Where the copies read the program (loopback: nginx lets only loopback play). */
  get playUrl(): string {
    return `rtmp://127.0.0.1:${this.settings.port}/${RELAY_APP}/${this.settings.key}`;
  }

  get running(): boolean {
    return this.supervisor?.running ?? false;
  }

  async start(): Promise<void> {
    const hooks = createServer((request, response) => {
      void this.onHook(request).then(
        (status) => {
          response.statusCode = status;
          response.end();
        },
        () => {
          response.statusCode = 400;
          response.end();
        },
      );
    });
    this.hooks = hooks;
    await new Promise<void>((resolve, reject) => {
      hooks.once('error', reject);
      hooks.listen(0, '127.0.0.1', () => resolve());
    });
    const hookPort = (hooks.address() as AddressInfo).port;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(conf, this.nginxConf(hookPort), { mode: 0o600 });
    this.supervisor = new Supervisor({
      name: 'relay',
      command: this.settings.nginx,
      args: () => ['-c', conf, '-p', this.dir, '-e', 'stderr'],
      log: this.log,
      backoff: { initialMs: 500, maxMs: 5000 },
      onStderrLine: (line) => this.log.warn({ child: 'relay' }, line.replace(this.settings.key, '***')),
      onEvent: (event) => {
        // A relay that went away took its publisher with it, whether nginx said so or not.
        if (event.event === 'exited' && this.publisherLive) this.setProgram(false);
        this.events.onChildEvent(event);
      },
    });
    this.supervisor.start();
  }

  /** nginx-rtmp's notify: 2xx lets the publisher in, anything else turns it away. */
  private async onHook(request: IncomingMessage): Promise<number> {
    if (request.method !== 'POST') return 405;
    const form = new URLSearchParams(await readBody(request));
    const call = form.get('call');
    const app = form.get('app');
    const name = form.get('name') ?? '';
    const rightKey = app === RELAY_APP && sameSecret(name, this.settings.key);
    if (call === 'publish') {
      if (!rightKey) {
        this.log.warn({ addr: form.get('addr'), app }, 'relay refused a publisher: wrong app or key');
        return 403;
      }
      this.setProgram(true);
      return 200;
    }
    if (call === 'publish_done') {
      if (rightKey) this.setProgram(false);
      return 200;
    }
    return 200;
  }

  private setProgram(live: boolean): void {
    if (this.publisherLive === live) return;
    this.publisherLive = live;
    this.log.info({ live }, live ? 'program arrived on the relay' : 'program left the relay');
    this.events.onProgram(live);
  }

  private nginxConf(hookPort: number): string {
    const hook = `http://127.0.0.1:${hookPort}`;
    return `load_module ${this.settings.rtmpModule};
daemon off;
master_process off;
worker_processes 1;
pid ${this.dir}/nginx.pid;
error_log stderr error;
events { worker_connections 256; }
rtmp {
  server {
    listen ${this.settings.bind.includes(':') ? `[${this.settings.bind}]` : this.settings.bind}:${this.settings.port};
    chunk_size 4096;
    # No access log: its compiled-in file (/var/log/nginx) is not writable by an unprivileged user or on
    # a read-only root (the compose image); publishers are logged by the hook.
    access_log off;
    application ${RELAY_APP} {
      live on;
      record off;
      wait_key on;
      wait_video on;
      drop_idle_publisher 10s;
      allow play 127.0.0.1;
      deny play all;
      on_publish ${hook}/publish;
      on_publish_done ${hook}/publish_done;
    }
  }
}
`;
  }

  async stop(): Promise<void> {
    await this.supervisor?.stop();
    this.supervisor = undefined;
    const hooks = this.hooks;
    this.hooks = undefined;
    if (hooks) await new Promise<void>((resolve) => hooks.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
    this.publisherLive = false;
  }
}
