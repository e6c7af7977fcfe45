// Compose's generated NATS passwords against the real nats-server: users.conf reads each password from
// nats' environment ($NATS_<USER>_PASSWORD), and nats-server parses such a value as a config value, so one
// that starts with a digit and a unit letter (2e5…, 7K…) is taken for a number and nats refuses to start
// (nats-io/nats-server#3431). services/init/init.sh therefore starts every secret with a letter.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUS_USERS, natsPasswordVariable } from '@irlkit/shared';
import { afterAll, describe, expect, it } from 'vitest';

const initScript = fileURLToPath(new URL('../services/init/init.sh', import.meta.url));
const usersConf = fileURLToPath(new URL('../services/nats/users.conf', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'irlkit-compose-secrets-'));
copyFileSync(usersConf, join(dir, 'users.conf'));
writeFileSync(join(dir, 'nats.conf'), 'include "users.conf"\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `nats-server -t`: parses the configuration (environment variables included) and says whether it is valid. */
function natsAccepts(passwords: string[]): { ok: boolean; output: string } {
  const env = { ...process.env, ...Object.fromEntries(BUS_USERS.map((user, i) => [natsPasswordVariable(user), passwords[i % passwords.length]])) };
  const run = spawnSync('nats-server', ['-t', '-c', join(dir, 'nats.conf')], { env, encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** `count` secrets of `length` from init.sh's own generate() (the function's line, run by sh). */
function generated(count: number, length: number): string[] {
  const fn = readFileSync(initScript, 'utf8')
    .split('\n')
    .find((line) => line.startsWith('generate()'));
  expect(fn, 'init.sh defines generate() on one line').toBeDefined();
  const run = spawnSync('sh', ['-c', `${fn}\ni=0; while [ $i -lt ${count} ]; do generate ${length}; echo; i=$((i + 1)); done`], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim().split('\n');
}

describe("compose's generated secrets", () => {
  it('nats-server refuses a password that reads as a number (why the generator starts with a letter)', () => {
    const refused = natsAccepts(['2e5AbcDefGhiJklMnoPqrStuVwxYz012']);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/could not be parsed/);
    expect(natsAccepts(['x2e5AbcDefGhiJklMnoPqrStuVwxYz01']).ok).toBe(true);
  });

  it('every generated secret is alphanumeric, starts with a letter and has its length; nats-server takes them', () => {
    const secrets = generated(150, 32);
    expect(secrets).toHaveLength(150);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z][A-Za-z0-9]{31}$/);
    expect(new Set(secrets).size).toBe(150);
    for (const secret of generated(20, 48)) expect(secret).toMatch(/^[A-Za-z][A-Za-z0-9]{47}$/);
    const check = natsAccepts(secrets.slice(0, BUS_USERS.length));
    expect(check.ok, check.output).toBe(true);
  });
});
