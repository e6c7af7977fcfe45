// Every Node service starts the same way natively (its package.json `start`, which the runner runs) and in
// its image (the Dockerfile stage's CMD): the same Node flags in both places. The services started in V8's
// lite mode (no optimising compiler, no WebAssembly: about 10 MB less each, for services that mostly wait)
// must not need WebAssembly, which also rules out Node's global fetch (undici parses HTTP with WebAssembly).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildService, bundle, compiledEntry, SERVICE_NAMES, type ServiceName } from '../scripts/build-services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * A call of the global fetch in compiled code: `fetch(` after an operator, a bracket, `await` or `return`. Not a
 * method call (`consumer.fetch(`) or a method's definition (nats' `fetch(opts) {`).
 */
const GLOBAL_FETCH_CALL = /(?:[=(,:;!?&|[{]|\bawait|\breturn)\s*fetch\(/;

function startScript(service: ServiceName): string[] {
  const manifest = JSON.parse(readFileSync(join(root, 'services', service, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return manifest.scripts.start.split(/\s+/);
}

/** The last CMD of each `FROM … AS <stage>` block (each service's image is the stage of its name). */
function imageCommands(): Map<string, string[]> {
  const commands = new Map<string, string[]>();
  let stage = '';
  for (const line of readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stage = from[1] as string;
    const cmd = /^CMD\s+(\[.*\])\s*$/.exec(line);
    if (cmd && stage) commands.set(stage, JSON.parse(cmd[1] as string) as string[]);
  }
  return commands;
}

describe('how the Node services start', () => {
  const images = imageCommands();
  const dir = mkdtempSync(join(tmpdir(), 'irlkit-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(SERVICE_NAMES)('%s: the image runs exactly its start script, on its compiled entry', (service) => {
    const start = startScript(service);
    expect(start[0]).toBe('node');
    expect(start.at(-1)).toBe(compiledEntry(service));
    expect(images.get(service)).toEqual(start);
  });

  const lite = SERVICE_NAMES.filter((service) => startScript(service).includes('--lite-mode'));

  it('the lite-mode services are the ones that only supervise or relay messages', () => {
    // Not restream: in its container it loads Node's undici at start (a WebAssembly HTTP parser), and under
    // --lite-mode it crash-looped with "WebAssembly is not defined" (the compose test caught it).
    expect(lite.sort()).toEqual(['chat', 'desktop']);
    for (const service of lite) expect(startScript(service)).toContain('--no-expose-wasm');
  });

  it("the fetch check finds the one global fetch the project has (the dashboard's webhooks)", async () => {
    const outfile = join(dir, 'webhook.js');
    await bundle(join(root, 'services/dashboard/lib/alerts/webhook.ts'), outfile);
    expect(readFileSync(outfile, 'utf8')).toMatch(GLOBAL_FETCH_CALL);
  });

  it.each(lite)('%s (lite mode): its compiled code never reaches for WebAssembly or the global fetch', async (service) => {
    const code = readFileSync(await buildService(service, { outfile: join(dir, service, 'main.js') }), 'utf8');
    expect(code).not.toMatch(/\bWebAssembly\b/);
    expect(code).not.toMatch(/globalThis\.fetch/);
    expect(code).not.toMatch(GLOBAL_FETCH_CALL);
  });
});
