// IRL_STREAMS as a file that may change while ingest runs: read again on SIGHUP and whenever the file changes
// (debounced; a rename-replace counts), a valid list handed on, a bad one refused with its problems (never a crash).
import { type Logger, parseStreamList, type StreamDefinition, watchStreamListFile } from '@irlkit/shared';

export interface StreamListFollowerOptions {
  file: string;
  debounceMs: number;
  log: Logger;
  /** A valid list, read from the file (it may be the same as the one in force). */
  onList(streams: StreamDefinition[]): Promise<void>;
  /** The file could not be read or holds a bad list: the problems, each naming the stream and field. */
  onRefused(problems: string[]): void;
}

export function followStreamList({ file, debounceMs, log, onList, onRefused }: StreamListFollowerOptions) {
  /** Reloads run one after another: a change while one is applied is read once it is done. */
  let applying: Promise<void> = Promise.resolve();
  const reload = (why: string): Promise<void> => {
    applying = applying.then(async () => {
      const parsed = parseStreamList(file);
      if (!parsed.ok) {
        onRefused(parsed.problems);
        return;
      }
      log.debug({ file, why }, 'stream list read');
      await onList(parsed.streams).catch((error: unknown) => log.error({ err: error, file }, 'applying the stream list failed'));
    });
    return applying;
  };
  const onHangup = () => void reload('SIGHUP');
  let watcher: { close(): void } | undefined;
  return {
    start(): void {
      watcher = watchStreamListFile(file, () => void reload('file changed'), debounceMs);
      process.on('SIGHUP', onHangup);
    },
    /** Reads the file now (what SIGHUP does); resolves once its list is applied or refused. */
    reload: () => reload('asked'),
    async stop(): Promise<void> {
      process.off('SIGHUP', onHangup);
      watcher?.close();
      await applying;
    },
  };
}
