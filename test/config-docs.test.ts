// The README's configuration tables against the schemas: every variable a service or the native runner
// reads is documented, every documented variable is read, each default is the schema's, and a variable
// shown as "generated" is one the schema marks as a secret. The switcher's table matches its defaults.
import { readFileSync } from 'node:fs';
import { commonEnv, DEFAULT_SWITCHER_SETTINGS, isSecret, variableDefault } from '@irlkit/shared';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { runnerEnv, runnerSecretsEnv } from '../scripts/runner-config.ts';
import { chatEnv } from '../services/chat/src/config.ts';
import { dashboardEnv } from '../services/dashboard/lib/config.ts';
import { desktopEnv } from '../services/desktop/src/config.ts';
import { ingestEnv } from '../services/ingest/src/config.ts';
import { bridgeEnv } from '../services/obs-bridge/src/config.ts';
import { restreamEnv } from '../services/restream/src/config.ts';

const schemas: Record<string, Record<string, z.ZodType>> = {
  common: commonEnv,
  ingest: ingestEnv,
  'obs-bridge': bridgeEnv,
  desktop: desktopEnv,
  dashboard: dashboardEnv,
  chat: chatEnv,
  restream: restreamEnv,
  'native runner': { ...runnerEnv, ...runnerSecretsEnv },
};

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const configuration = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration') + 1));

/** A table row's cells, trimmed; undefined for lines that are not rows. */
function cells(line: string): string[] | undefined {
  if (!line.startsWith('|')) return undefined;
  return line
    .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
    .split(' | ')
    .map((c) => c.replace(/^\|/, '').trim());
}

/** "`A_B` / `_C`" or "`A_B`, `_C`" → the names, a leading "_" continuing the first name's prefix. */
function names(cell: string): string[] {
  const parts = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  const first = parts[0] ?? '';
  const prefix = first.slice(0, first.lastIndexOf('_'));
  return parts.map((p) => (p.startsWith('_') ? `${prefix}${p}` : p));
}

/** The defaults column, one entry per name: a backticked value, "empty", "generated" or other words. */
function defaults(cell: string, count: number): string[] {
  const parts = cell.split(/ \/ |, (?=`|empty|generated)/);
  return parts.length === count ? parts.map((p) => p.trim()) : Array.from({ length: count }, () => cell.trim());
}

interface Documented {
  name: string;
  shown: string;
  line: string;
}

const documented: Documented[] = [];
for (const line of configuration.split('\n')) {
  const row = cells(line);
  if (!row || row.length < 3 || !/^`[A-Z][A-Z0-9_]+`/.test(row[0] as string)) continue;
  const rowNames = names(row[0] as string);
  const shown = defaults(row[1] as string, rowNames.length);
  rowNames.forEach((name, i) => {
    documented.push({ name, shown: shown[i] as string, line });
  });
}

/** "`9000`" → "9000"; "`native` (`docker` in compose)" → "native"; "empty" → ""; anything else as it is. */
function shownValue(shown: string): string {
  const code = /^`([^`]*)`/.exec(shown);
  if (code) return code[1] as string;
  return shown === 'empty' ? '' : shown;
}

describe('README configuration tables', () => {
  const read = new Map<string, { service: string; schema: z.ZodType }[]>();
  for (const [service, shape] of Object.entries(schemas)) {
    for (const [name, schema] of Object.entries(shape)) read.set(name, [...(read.get(name) ?? []), { service, schema }]);
  }

  it('document every variable a service or the runner reads', () => {
    const missing = [...read.keys()].filter((name) => !documented.some((d) => d.name === name));
    expect(missing, 'variables read but not in the README configuration tables').toEqual([]);
  });

  it('document no variable nothing reads', () => {
    expect(
      documented.filter((d) => !read.has(d.name)).map((d) => d.name),
      'README rows naming variables no config.ts reads',
    ).toEqual([]);
  });

  it("show each variable's default as its schema has it, and secrets as generated or empty", () => {
    const wrong: string[] = [];
    for (const { name, shown, line } of documented) {
      for (const { service, schema } of read.get(name) ?? []) {
        const actual = variableDefault(schema);
        if (isSecret(schema)) {
          const devDefault = actual ?? '';
          if (!(shown === 'generated' && devDefault !== '') && !(shown === 'empty' && devDefault === '')) {
            wrong.push(`${name} (${service}): a secret shown as "${shown}" (its development default is ${devDefault ? 'generated' : 'empty'})`);
          }
          continue;
        }
        const value = shownValue(shown);
        if (actual === undefined) {
          if (shown.startsWith('`')) wrong.push(`${name} (${service}): README shows ${shown}, the schema has no default`);
          continue;
        }
        // Paths resolved at start-up (OBS_OFFLINE_MEDIA, IRL_STATE_DIR) are shown relative to the repository.
        const relative = value.replace(/^\.\//, '');
        if (actual !== value && !(relative.includes('/') || relative.startsWith('.') ? actual.endsWith(`/${relative}`) : false)) {
          wrong.push(`${name} (${service}): README shows "${value}", the schema's default is "${actual}"\n    ${line.slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("show the switcher's defaults as the bridge has them", () => {
    const wrong: string[] = [];
    let rows = 0;
    for (const line of configuration.split('\n')) {
      const row = cells(line);
      if (!row || !/^`[a-z][A-Za-z]+`/.test(row[0] as string)) continue;
      const settingNames = names(row[0] as string);
      const shown = (row[1] as string).split(' / ');
      settingNames.forEach((name, i) => {
        rows += 1;
        const actual = (DEFAULT_SWITCHER_SETTINGS as Record<string, unknown>)[name];
        if (String(actual) !== shown[i]?.trim()) wrong.push(`${name}: README shows "${shown[i]}", the default is ${JSON.stringify(actual)}`);
      });
    }
    expect(rows).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  it("repeats no schema's default: a variable left to its default reaches the container unset", () => {
    const compose = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');
    const read = new Map<string, z.ZodType[]>();
    for (const shape of Object.values(schemas)) for (const [name, schema] of Object.entries(shape)) read.set(name, [...(read.get(name) ?? []), schema]);
    const repeated = [...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}/g)]
      .filter(([, name, fallback]) => fallback !== '' && (read.get(name as string) ?? []).some((schema) => variableDefault(schema) === fallback))
      .map(([text]) => text);
    expect(repeated, 'write `NAME:` (passed through from .env when set) instead of repeating the default').toEqual([]);
  });
});

describe('the docs', () => {
  it('carry no merge-conflict markers', () => {
    const files = ['README.md', ...['ARCHITECTURE.md', 'BENCHMARKS.md', 'RELIABILITY.md', 'SECURITY.md', 'srtla.md'].map((f) => `docs/${f}`)];
    const marked = files.filter((f) => /^(<{7}|={7}|>{7})( |$)/m.test(readFileSync(new URL(`../${f}`, import.meta.url), 'utf8')));
    expect(marked, 'files with <<<<<<< / ======= / >>>>>>> lines left by a merge').toEqual([]);
  });
});
