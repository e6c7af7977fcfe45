// Next's own server compresses with gzip only. Its build output under /_next/static is immutable (every
// name carries a content hash), so each file is compressed with brotli once, at start, and kept in memory
// (a few hundred KB): a phone's first visit downloads about a sixth less JavaScript.
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants } from 'node:zlib';

const compress = promisify(brotliCompress);
const TYPES: Record<string, string> = { '.js': 'application/javascript; charset=UTF-8', '.css': 'text/css; charset=UTF-8' };
const PREFIX = '/_next/static/';

/** Accept-Encoding names br with a non-zero quality. */
export function acceptsBrotli(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'br') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * Serves `/_next/static/…{.js,.css}` brotli-compressed to a client that accepts it, once that file is
 * compressed: compression never holds a request up (quality 9 with a 256 KB window; quality 11 held tens of MB
 * and seconds of CPU right after start), so until then, and for any other path, a client without br or a file
 * that is not there, Next answers (gzip).
 * `warm()` compresses the whole build one file after another, at start.
 */
export function brotliStatic(appDir: string): {
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
  warm: () => Promise<void>;
} {
  const root = join(appDir, '.next', 'static');
  /** A file's compressed body once ready (null: unreadable), or the compression under way. */
  const ready = new Map<string, Buffer | null>();
  const pending = new Map<string, Promise<void>>();
  const prepare = (file: string): Promise<void> => {
    const started = pending.get(file);
    if (started) return started;
    const work = readFile(file)
      .then((body) =>
        compress(body, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_LGWIN]: 18, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
        }),
      )
      .then(
        (body) => {
          ready.set(file, body);
        },
        () => {
          ready.set(file, null);
        },
      )
      .finally(() => pending.delete(file));
    pending.set(file, work);
    return work;
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url ?? '').split('?')[0] as string;
    if (!path.startsWith(PREFIX) || !acceptsBrotli(request.headers['accept-encoding'])) return false;
    const type = TYPES[extname(path)];
    if (!type) return false;
    let relative: string;
    try {
      relative = normalize(decodeURIComponent(path.slice(PREFIX.length)));
    } catch {
      return false;
    }
    // Only files inside the build's static folder: no "..", no absolute path.
    if (relative.startsWith(sep) || relative.split(sep).includes('..')) return false;
    const file = join(root, relative);
    const body = ready.get(file);
    if (body === undefined) {
      void prepare(file);
      return false;
    }
    if (body === null) return false;
    response.writeHead(200, {
      'content-type': type,
      'content-encoding': 'br',
      'content-length': body.length,
      vary: 'Accept-Encoding',
      'cache-control': 'public, max-age=31536000, immutable',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  };
  const warm = async () => {
    const files = await readdir(root, { recursive: true }).catch(() => [] as string[]);
    for (const name of files) if (TYPES[extname(name)]) await prepare(join(root, name));
  };
  return { handle, warm };
}
