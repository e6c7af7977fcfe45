// Writes one benchmark's section into docs/BENCHMARKS.md, between its own markers, so
// benchmarks can be run one at a time without disturbing each other's results.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));
const HEADER =
  "# Benchmarks\n\nNumbers measured on the project's reference machine (2 cores). Each section says the command that produced it; `pnpm bench` runs them all.\n";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(values: number[]) {
  return { n: values.length, median: percentile(values, 50), p95: percentile(values, 95), max: Math.max(...values), min: Math.min(...values) };
}

export function writeBenchSection(name: string, title: string, command: string, body: string): void {
  let text: string;
  try {
    text = readFileSync(FILE, 'utf8');
  } catch {
    text = HEADER;
  }
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n## ${title}\n\nCommand: \`${command}\` — run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\n${body.trim()}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  text = pattern.test(text) ? text.replace(pattern, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, text);
}
