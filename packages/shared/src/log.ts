// pino logger factory: pretty lines in a terminal, JSON lines otherwise.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(name: string, level = 'info'): Logger {
  const pretty = process.stdout.isTTY === true;
  return pino({
    name,
    level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  });
}

/** A logger that writes nothing (tests and tools that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
