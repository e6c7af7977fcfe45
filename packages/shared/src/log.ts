// pino logger factory: pretty lines in a terminal, JSON lines otherwise.
import { type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export function createLogger(name: string, level = 'info'): Logger {
  if (process.stdout.isTTY !== true) return pino({ name, level });
  // In this thread, as a stream: a pino transport would start a worker that loads pino-pretty from disk by
  // name, which a service compiled into one file (scripts/build-services.ts) cannot offer.
  return pino({ name, level }, PinoPretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
}

/** A logger that writes nothing (tests and tools that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
