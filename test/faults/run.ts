// `pnpm faults [name…]`: runs every fault (test/faults/*.fault.ts), or those the given words name
// (a fault's whole name, else any name containing the word), one at a time, each under the machine's
// heavy-work lock. A native fault (`<name>.fault.ts`) runs in a private network namespace (OBS's
// websocket binds every interface); a compose fault (`<name>.compose.fault.ts`) drives a Docker
// engine, whose containers are its isolation. Each fault rewrites its own section of docs/RELIABILITY.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dir = join(root, 'test/faults');
/** The lock every OBS, docker or benchmark run takes on this machine; IRL_HEAVY_LOCK_HELD=1 when the caller holds it. */
const LOCK = process.env.IRL_HEAVY_LOCK ?? '/tmp/irlkit-heavy.lock';

const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.fault.ts'))
  .sort();
const words = process.argv.slice(2);
const nameOf = (file: string) => file.replace(/(\.compose)?\.fault\.ts$/, '');
// A word that is a fault's whole name selects that fault only (`obs-hung`, not also `obs-hung-compose`).
const selected = modules.filter((f) => words.length === 0 || words.some((w) => (modules.some((m) => nameOf(m) === w) ? nameOf(f) === w : f.includes(w))));
if (selected.length === 0) {
  process.stderr.write(`no fault matches ${words.join(', ')}; there are: ${modules.map(nameOf).join(', ')}\n`);
  process.exit(2);
}
const failed: string[] = [];
for (const file of selected) {
  process.stdout.write(`\n== ${file}\n`);
  const inner = file.endsWith('.compose.fault.ts') ? ['npx', 'tsx', join(dir, file)] : [join(root, 'scripts/in-netns.sh'), 'npx', 'tsx', join(dir, file)];
  const command = process.env.IRL_HEAVY_LOCK_HELD === '1' ? inner : ['flock', LOCK, ...inner];
  const result = spawnSync(command[0] as string, command.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) failed.push(file);
}
process.stdout.write(`\nfaults: ${selected.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}\n`);
process.exit(failed.length ? 1 : 0);
