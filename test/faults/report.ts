// A fault's run and its section of docs/RELIABILITY.md: the fault module measures, this file keeps the
// numbers, compares them with the fault's goals and rewrites only that fault's section (between its own
// markers), so faults can be run one at a time without disturbing each other's results.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../../docs/RELIABILITY.md', import.meta.url));
const HEADER = `# Reliability

Faults irlkit is expected to heal, each run against the real stack (nats-server, ingest, a real OBS under
Xvfb, obs-bridge, an nginx RTMP sink; compose faults on a real Docker engine) and measured on the project's
reference machine (2 cores). Each section says the command that produced it and when; \`pnpm faults\` runs
them all (native ones in a private network namespace), \`pnpm faults <name>\` one of them. A goal missed or
a check that failed is written down as such, never left out.
`;

export interface FaultSpec {
  /** Shown as the section's title. */
  title: string;
  /** What is done to the stack and what a streamer should see: one short paragraph. */
  scenario: string;
  /** Upper bounds in ms, by measure name; a measure over its goal fails the fault. */
  goalsMs?: Record<string, number>;
}

export interface FaultRun {
  /** Records one measured duration (several per measure when the fault repeats). */
  time(measure: string, ms: number): void;
  /** A line worth keeping under the table (what was seen, counts, caveats). */
  note(line: string): void;
  /** Fails the fault (recorded, and the run goes on to write the section). */
  check(condition: unknown, failure: string): void;
  log(line: string): void;
}

/** The name of a fault: its module's file name without `.fault.ts` / `.compose.fault.ts`. */
export function faultName(moduleUrl: string): string {
  return basename(fileURLToPath(moduleUrl)).replace(/(\.compose)?\.fault\.ts$/, '');
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

export function writeFaultSection(name: string, markdown: string): void {
  let text: string;
  try {
    text = readFileSync(FILE, 'utf8');
  } catch {
    text = HEADER;
  }
  const start = `<!-- fault:${name} -->`;
  const end = `<!-- /fault:${name} -->`;
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = pattern.test(text) ? text.replace(pattern, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, text);
}

/**
 * Runs a fault: `body` sets up the stack, causes the fault and measures; whatever happens (a thrown
 * error included) the section is written, and the process exits non-zero if a check failed or a goal
 * was missed. Call it as a module's top-level await.
 */
export async function runFault(moduleUrl: string, spec: FaultSpec, body: (run: FaultRun) => Promise<void>): Promise<never> {
  const name = faultName(moduleUrl);
  const times = new Map<string, number[]>();
  const notes: string[] = [];
  const failures: string[] = [];
  const startedAt = new Date();
  const log = (line: string) => process.stdout.write(`[${name}] ${line}\n`);
  const run: FaultRun = {
    time(measure, ms) {
      times.set(measure, [...(times.get(measure) ?? []), ms]);
      log(`${measure}: ${seconds(ms)}`);
    },
    note(line) {
      notes.push(line);
      log(line);
    },
    check(condition, failure) {
      if (condition) return;
      failures.push(failure);
      log(`FAILED: ${failure}`);
    },
    log,
  };
  try {
    await body(run);
  } catch (error) {
    failures.push(`stopped early: ${(error as Error).message.split('\n')[0]}`);
    log(`FAILED: ${(error as Error).stack ?? String(error)}`);
  }
  const goals = spec.goalsMs ?? {};
  for (const [measure, goal] of Object.entries(goals)) {
    const values = times.get(measure);
    if (!values?.length) failures.push(`${measure}: not measured`);
    else if (Math.max(...values) > goal) failures.push(`${measure}: ${seconds(Math.max(...values))} is over the goal of ${seconds(goal)}`);
  }
  const rows = [...times].map(([measure, values]) => {
    const goal = goals[measure];
    const met = goal === undefined ? '' : Math.max(...values) <= goal ? '✓' : '✗';
    return `| ${measure} | ${values.length} | ${seconds(median(values))} | ${seconds(Math.max(...values))} | ${goal === undefined ? '—' : `≤ ${seconds(goal)} ${met}`} |`;
  });
  const outcome = failures.length ? `**failed**: ${failures.join('; ')}` : '**passed**';
  writeFaultSection(
    name,
    [
      `## ${spec.title}`,
      '',
      `Command: \`pnpm faults ${name}\` — run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC — ${outcome}`,
      '',
      spec.scenario,
      '',
      ...(rows.length ? ['| measured | n | median | max | goal |', '|---|---|---|---|---|', ...rows, ''] : []),
      ...notes.map((n) => `- ${n}`),
    ].join('\n'),
  );
  log(failures.length ? `failed (${failures.length})` : 'passed');
  process.exit(failures.length ? 1 : 0);
}
