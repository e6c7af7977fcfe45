// Debian's Chromium driven by playwright-core (never a downloaded browser), and the dashboard
// server started from its production build (Next's, and server.ts compiled as production runs it) on a free port.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildService } from '../../scripts/build-services.ts';
import type { TestNats } from './nats-server.ts';
import { freeTcpPort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface ChromiumOptions {
  /**
   * A certificate authority's root (PEM) this browser trusts, as a system would: added to the NSS
   * database of a throwaway $HOME (certutil, Debian's libnss3-tools), removed with the browser.
   */
  trustedCaFile?: string;
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  let home: string | undefined;
  if (options.trustedCaFile) {
    home = mkdtempSync(join(tmpdir(), 'irlkit-chromium-home-'));
    const nssdb = join(home, '.pki/nssdb');
    mkdirSync(nssdb, { recursive: true });
    for (const args of [
      ['-N', '-d', `sql:${nssdb}`, '--empty-password'],
      ['-A', '-d', `sql:${nssdb}`, '-n', 'trusted-test-root', '-t', 'C,,', '-i', options.trustedCaFile],
    ]) {
      const result = spawnSync('certutil', args, { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`certutil ${args[0]} failed (install libnss3-tools): ${result.stderr || result.error?.message}`);
    }
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    ...(home ? { env: { ...process.env, HOME: home } } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  if (home) {
    const dir = home;
    browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  }
  return browser;
}

const dashboardDir = fileURLToPath(new URL('../../services/dashboard', import.meta.url));

export interface TestDashboard {
  url: string;
  password: string;
  /** The secret the server signs session cookies with. */
  sessionSecret: string;
  /** A new browser context of the given viewport, logged in through the login page, on the dashboard. */
  login(browser: Browser, viewport?: { width: number; height: number }): Promise<Page>;
  output(): string;
  /** Resident memory of the server's process (and any below it), in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
  /** Stops and starts the server on the same port (open event streams break, as in a redeploy). */
  restart(): Promise<void>;
}

/** Builds the dashboard if no build exists, compiles server.ts, then runs it (`node dist/server.js`) against the test's nats-server. */
export async function startDashboard(nats: TestNats, env: Record<string, string> = {}): Promise<TestDashboard> {
  if (!existsSync(`${dashboardDir}/.next/BUILD_ID`)) {
    const build = spawnSync('npx', ['next', 'build'], { cwd: dashboardDir, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`dashboard build failed:\n${build.stdout}\n${build.stderr}`);
  }
  const server = await buildService('dashboard');
  const port = await freeTcpPort();
  const password = 'dashboard-test-password';
  const sessionSecret = 'dashboard-test-session-secret';
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let pid: number | undefined;
  const launch = async () => {
    const child: ChildProcess = spawn(process.execPath, [server], {
      cwd: dashboardDir,
      env: {
        ...process.env,
        DASHBOARD_PORT: String(port),
        DASHBOARD_HOST: '127.0.0.1',
        NATS_URL: nats.url,
        NATS_USER: nats.user,
        NATS_PASSWORD: nats.password,
        DASHBOARD_PASSWORD: password,
        DASHBOARD_SESSION_SECRET: sessionSecret,
        DASHBOARD_DESKTOP_URL: 'http://127.0.0.1:1/desktop',
        IRL_ENV_FILE: '/nonexistent',
        NEXT_TELEMETRY_DISABLED: '1',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pid = child.pid;
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(async () => (await fetch(`${url}/login`).catch(() => undefined))?.ok, `the dashboard to answer on ${url}`, 30_000, 200);
    return async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      }
    };
  };
  let stopServer = await launch();
  return {
    url,
    password,
    sessionSecret,
    login: async (browser, viewport = { width: 1440, height: 900 }) => {
      const page = await (await browser.newContext({ viewport })).newPage();
      await page.goto(`${url}/login`);
      await page.getByTestId('password').fill(password);
      await page.getByTestId('login').click();
      await page.waitForURL(`${url}/`);
      return page;
    },
    output: () => output,
    rssBytes: () => (pid === undefined ? 0 : processTreeRssBytes(pid)),
    stop: () => stopServer(),
    restart: async () => {
      await stopServer();
      stopServer = await launch();
    },
  };
}

/** Resident memory of a process and every process below it, from /proc. */
export function processTreeRssBytes(pid: number): number {
  let kib = 0;
  try {
    kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // gone
  }
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    children = [];
  }
  return kib * 1024 + children.reduce((sum, child) => sum + processTreeRssBytes(child), 0);
}
