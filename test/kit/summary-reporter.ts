// Prints a closing line "tests: N passed, N failed, N skipped" and, when asked, appends it to a file
// so a test command running several vitest invocations can add them up. With that file, each failed
// test's name and the head of its error also go to `<file>.failures`: `./irlkit test` prints them again
// just before its closing line, where a CI log that keeps only its end still shows why a test failed.
import { appendFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/** Lines of one error kept in the digest (the message first, then the top of the stack). */
const DIGEST_LINES = 40;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are what is removed
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const digest: string[] = [];
    const describe = (where: string, errors: ReadonlyArray<{ message?: string; stack?: string }>) => {
      digest.push(`✗ ${where}`);
      for (const error of errors.slice(0, 2)) {
        // The message, then where it was thrown: the stack's first frames outside node_modules.
        const frames = (error.stack ?? '')
          .split('\n')
          .filter((line) => /^\s*at /.test(line) && !line.includes('/node_modules/'))
          .slice(0, 3);
        const lines = plain([error.message ?? '', ...frames].join('\n'))
          .trim()
          .split('\n');
        digest.push(...lines.slice(0, DIGEST_LINES).map((line) => `    ${line.slice(0, 400)}`));
        if (lines.length > DIGEST_LINES) digest.push(`    … ${lines.length - DIGEST_LINES} more lines`);
      }
    };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') {
          failed += 1;
          describe(`${module.moduleId.replace(`${process.cwd()}/`, '')} > ${test.fullName}`, result.errors ?? []);
        } else skipped += 1;
      }
      if (module.state() === 'failed' && ![...module.children.allTests()].length) {
        failed += 1;
        describe(`${module.moduleId.replace(`${process.cwd()}/`, '')} (the file itself)`, module.errors());
      }
    }
    failed += unhandledErrors.length;
    for (const error of unhandledErrors) describe('an unhandled error', [error as Error]);
    const line = `${passed} passed, ${failed} failed, ${skipped} skipped`;
    const file = process.env.IRL_TEST_SUMMARY_FILE;
    if (file) {
      appendFileSync(file, `${passed} ${failed} ${skipped}\n`);
      if (digest.length) appendFileSync(`${file}.failures`, `${digest.join('\n')}\n`);
    } else process.stdout.write(`\ntests: ${line}\n`);
  }
}
