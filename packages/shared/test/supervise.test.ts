// The process supervisor on real child processes: backoff that grows, a restart by hand that is
// immediate once and never turns into a tight respawn loop, and a clean stop.
import { describe, expect, it } from 'vitest';
import { waitFor as waitForKit } from '../../../test/kit/index.ts';
import { type ChildEvent, Supervisor, silentLogger } from '../src/index.ts';

const log = silentLogger();

function collect() {
  const events: ChildEvent[] = [];
  const waitFor = (predicate: () => boolean, what: string) => waitForKit(predicate, what, 10_000, 10);
  return { events, waitFor, onEvent: (e: ChildEvent) => events.push(e) };
}

describe('Supervisor', () => {
  it('restarts a crashing child with growing delays', async () => {
    const { events, waitFor, onEvent } = collect();
    const s = new Supervisor({ name: 'crasher', command: 'sh', args: () => ['-c', 'exit 3'], log, onEvent, backoff: { initialMs: 20, maxMs: 80, factor: 2 } });
    s.start();
    await waitFor(() => events.filter((e) => e.event === 'exited').length >= 4, 'four exits');
    await s.stop();
    const delays = events.filter((e) => e.event === 'exited').map((e) => e.restartInMs);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(events.find((e) => e.event === 'exited')?.exitCode).toBe(3);
  });

  it('restarts at once when asked, then backs off again if the child keeps crashing', async () => {
    const { events, waitFor, onEvent } = collect();
    let crash = false;
    const s = new Supervisor({
      name: 'asked',
      command: 'sh',
      args: () => ['-c', crash ? 'exit 1' : 'sleep 30'],
      log,
      onEvent,
      backoff: { initialMs: 50, maxMs: 200, factor: 2 },
    });
    s.start();
    await waitFor(() => events.some((e) => e.event === 'started'), 'the first start');
    crash = true;
    s.restartNow();
    await waitFor(() => events.filter((e) => e.event === 'exited').length >= 3, 'three exits');
    await s.stop();
    const delays = events.filter((e) => e.event === 'exited').map((e) => e.restartInMs);
    expect(delays.slice(0, 3)).toEqual([0, 50, 100]);
  });

  it('restarts at once when asked while a crashed child waits out its backoff, and leaves no restart owed', async () => {
    const { events, waitFor, onEvent } = collect();
    const s = new Supervisor({
      name: 'crasher',
      command: 'sh',
      args: () => ['-c', 'exit 3'],
      log,
      onEvent,
      backoff: { initialMs: 3000, maxMs: 6000, factor: 2 },
    });
    s.start();
    await waitFor(() => events.some((e) => e.event === 'exited'), 'the first exit');
    const askedAt = Date.now();
    s.restartNow(); // nothing runs to kill: the 3 s wait is cut short
    await waitFor(() => events.filter((e) => e.event === 'started').length >= 2, 'the second start');
    expect(Date.now() - askedAt).toBeLessThan(1000);
    await waitFor(() => events.filter((e) => e.event === 'exited').length >= 2, 'the second exit');
    await s.stop();
    // The next crash backs off from the initial delay; no immediate restart was left over.
    expect(events.filter((e) => e.event === 'exited').map((e) => e.restartInMs)).toEqual([3000, 3000]);
  });

  it('a restart by hand ends a stopped (hung) child with SIGTERM once it can run, and one that ignores SIGTERM with SIGKILL', async () => {
    const { events, waitFor, onEvent } = collect();
    let ignoreTerm = false;
    const s = new Supervisor({
      name: 'hung',
      command: 'sh',
      args: () => ['-c', ignoreTerm ? 'trap "" TERM; while :; do sleep 1; done' : 'exec sleep 30'],
      log,
      onEvent,
      restartKillAfterMs: 500,
    });
    s.start();
    await waitFor(() => events.some((e) => e.event === 'started'), 'the start');
    process.kill(s.pid as number, 'SIGSTOP');
    ignoreTerm = true;
    s.restartNow();
    await waitFor(() => events.filter((e) => e.event === 'started').length >= 2, 'the restart of the stopped child');
    expect(events.find((e) => e.event === 'exited')?.signal).toBe('SIGTERM');
    await new Promise((r) => setTimeout(r, 200)); // the shell sets its trap
    const askedAt = Date.now();
    s.restartNow();
    await waitFor(() => events.filter((e) => e.event === 'exited').length >= 2, 'the end of the child ignoring SIGTERM');
    expect(Date.now() - askedAt).toBeGreaterThanOrEqual(450);
    expect(events.filter((e) => e.event === 'exited')[1]?.signal).toBe('SIGKILL');
    await s.stop();
  });

  it('kill() ends a child a watchdog judged stuck as a failed run: restarted after the backoff, which keeps growing', async () => {
    const { events, waitFor, onEvent } = collect();
    const s = new Supervisor({ name: 'stuck', command: 'sleep', args: () => ['30'], log, onEvent, backoff: { initialMs: 50, maxMs: 400, factor: 2 } });
    s.start();
    for (let run = 1; run <= 2; run++) {
      await waitFor(() => events.filter((e) => e.event === 'started').length === run && s.running, `start ${run}`);
      s.kill();
      await waitFor(() => events.filter((e) => e.event === 'exited').length === run, `exit ${run}`);
    }
    await waitFor(() => events.filter((e) => e.event === 'started').length === 3, 'the third start');
    await s.stop();
    const exits = events.filter((e) => e.event === 'exited');
    expect(exits.map((e) => [e.signal, e.restartInMs])).toEqual([
      ['SIGKILL', 50],
      ['SIGKILL', 100],
    ]);
  });

  it('stops a running child and does not restart it', async () => {
    const { events, waitFor, onEvent } = collect();
    const s = new Supervisor({ name: 'sleeper', command: 'sleep', args: () => ['30'], log, onEvent });
    s.start();
    await waitFor(() => events.some((e) => e.event === 'started'), 'the start');
    await s.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(events.map((e) => e.event)).toEqual(['started', 'stopped']);
    expect(s.running).toBe(false);
  });
});
