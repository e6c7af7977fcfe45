// Who may try a password now. Pure (clock injected): server.ts asks before it reads a login's body,
// so an attempt counts the moment it arrives, however slowly its body follows.

export interface LoginGateLimits {
  /** Attempts per client key per minute (successful ones are given back). */
  perClientPerMinute: number;
  /** Attempts from everyone together per minute: a guesser with many addresses meets this one. */
  globalPerMinute: number;
}

export interface Admitted {
  admitted: true;
  /** The password was right: the attempt is given back. */
  succeeded(): void;
  /** The login is over (any outcome): the client may try again. */
  done(): void;
}

export type Admission = Admitted | { admitted: false; reason: 'in-flight' | 'client-limit' | 'global-limit'; retryAfterS: number };

const WINDOW_MS = 60_000;
const MAX_TRACKED_CLIENTS = 10_000;

export class LoginGate {
  private readonly attemptsByClient = new Map<string, number[]>();
  private globalAttempts: number[] = [];
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly limits: LoginGateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts an attempt for `clientKey` and admits it, or says why not (nothing is counted then). */
  admit(clientKey: string): Admission {
    const now = this.now();
    if (this.inFlight.has(clientKey)) return { admitted: false, reason: 'in-flight', retryAfterS: 1 };
    const mine = this.recent(clientKey, now);
    if (mine.length >= this.limits.perClientPerMinute) return { admitted: false, reason: 'client-limit', retryAfterS: retryAfter(mine, now) };
    this.globalAttempts = this.globalAttempts.filter((t) => now - t < WINDOW_MS);
    if (this.globalAttempts.length >= this.limits.globalPerMinute) {
      return { admitted: false, reason: 'global-limit', retryAfterS: retryAfter(this.globalAttempts, now) };
    }
    if (this.attemptsByClient.size >= MAX_TRACKED_CLIENTS) this.forgetOld(now);
    mine.push(now);
    this.attemptsByClient.set(clientKey, mine);
    this.globalAttempts.push(now);
    this.inFlight.add(clientKey);
    let finished = false;
    return {
      admitted: true,
      succeeded: () => {
        removeOne(this.attemptsByClient.get(clientKey) ?? [], now);
        removeOne(this.globalAttempts, now);
      },
      done: () => {
        if (finished) return;
        finished = true;
        this.inFlight.delete(clientKey);
      },
    };
  }

  private recent(clientKey: string, now: number): number[] {
    const recent = (this.attemptsByClient.get(clientKey) ?? []).filter((t) => now - t < WINDOW_MS);
    if (recent.length === 0) this.attemptsByClient.delete(clientKey);
    return recent;
  }

  private forgetOld(now: number): void {
    for (const key of [...this.attemptsByClient.keys()]) {
      const recent = this.recent(key, now);
      if (recent.length) this.attemptsByClient.set(key, recent);
    }
  }
}

function removeOne(times: number[], t: number): void {
  const i = times.indexOf(t);
  if (i >= 0) times.splice(i, 1);
}

function retryAfter(times: number[], now: number): number {
  const oldest = times[0] ?? now;
  return Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000));
}
