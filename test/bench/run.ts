// `pnpm bench`: runs every benchmark (test/bench/*.bench.ts, services/*/bench/*.bench.ts) in turn,
// or only those whose file name contains one of the given words.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const dirs = ['test/bench', ...readdirSync(join(root, 'services')).map((s) => `services/${s}/bench`)];
const files = dirs
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.bench.ts'))
      .map((f) => join(d, f)),
  );
const filters = process.argv.slice(2);
const selected = files.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
let failed = 0;
for (const file of selected) {
  process.stdout.write(`\n== ${file}\n`);
  const result = spawnSync(join(root, 'scripts/in-netns.sh'), ['npx', 'tsx', file], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.stdout.write(`\nbenchmarks: ${selected.length - failed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
