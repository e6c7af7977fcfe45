// Compiles each Node service ahead of time into one plain-JavaScript file, services/<name>/dist/, which
// production runs with `node` (images, the native runner): no TypeScript loader in the running process.
//   tsx scripts/build-services.ts [service…]      (no names: every service)
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');

/** Each service's entry (TypeScript) and the file it compiles to, run as `node dist/<file>` in its folder. */
export const SERVICE_ENTRIES = {
  ingest: 'src/main.ts',
  'obs-bridge': 'src/main.ts',
  desktop: 'src/main.ts',
  chat: 'src/main.ts',
  restream: 'src/main.ts',
  dashboard: 'server.ts',
} as const;
export type ServiceName = keyof typeof SERVICE_ENTRIES;
export const SERVICE_NAMES = Object.keys(SERVICE_ENTRIES) as ServiceName[];

/** `dist/main.js` for `src/main.ts`, `dist/server.js` for `server.ts`. */
export function compiledEntry(service: ServiceName): string {
  const entry = SERVICE_ENTRIES[service];
  return `dist/${entry.replace(/^src\//, '').replace(/\.ts$/, '.js')}`;
}

/**
 * One file per service: the service's code and the workspace's shared package are bundled with what
 * the shared package brings (nats, pino, dotenv); the service's own npm dependencies stay outside, loaded
 * from its node_modules as published (some read files beside them: swagger-ui's assets, Next's build,
 * dockerode's optional native modules).
 */
export async function buildService(service: ServiceName, options: { outfile?: string } = {}): Promise<string> {
  const dir = join(root, 'services', service);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const own = Object.entries(manifest.dependencies ?? {})
    .filter(([, version]) => !version.startsWith('workspace:'))
    .map(([name]) => name);
  const outfile = options.outfile ?? join(dir, compiledEntry(service));
  await bundle(join(dir, SERVICE_ENTRIES[service]), outfile, [...own, ...own.map((name) => `${name}/*`)]);
  return outfile;
}

/**
 * Any TypeScript entry into one ES module for Node, with everything it imports except `external`. Each
 * file is written whole and renamed into place: a test or the runner building at the same moment as
 * another never starts a half-written file.
 */
export async function bundle(entry: string, outfile: string, external: string[] = []): Promise<void> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    // Bundled CommonJS packages (nats, pino) call require() for Node's built-ins.
    banner: { js: "import { createRequire as irlkitCreateRequire } from 'node:module'; const require = irlkitCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const partial = `${file.path}.${process.pid}.partial`;
    writeFileSync(partial, file.contents);
    renameSync(partial, file.path);
  }
}

/** Compiles the named services (all when none), in turn; returns the files written. */
export async function buildServices(services: readonly ServiceName[] = SERVICE_NAMES): Promise<string[]> {
  const written: string[] = [];
  for (const service of services) written.push(await buildService(service));
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(SERVICE_NAMES as string[]).includes(name));
  if (unknown.length > 0) {
    process.stderr.write(`build-services: unknown service ${unknown.join(', ')} (known: ${SERVICE_NAMES.join(', ')})\n`);
    process.exit(2);
  }
  const started = Date.now();
  const written = await buildServices(asked.length > 0 ? (asked as ServiceName[]) : SERVICE_NAMES);
  process.stdout.write(`built ${written.map((file) => relative(root, file)).join(', ')} in ${Date.now() - started} ms\n`);
}
