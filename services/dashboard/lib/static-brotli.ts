// Next's own server compresses with gzip only. Its build output under /_next/static is immutable (every
// name carries a content hash), so each file is compressed with brotli once, on its first request, and
// kept: a phone's first visit downloads about a sixth less JavaScript (docs/BENCHMARKS.md, footprint).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';
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
 * Serves `/_next/static/…{.js,.css}` brotli-compressed to a client that accepts it; anything else (another
 * path, no br, a file that is not there) is left to Next. Answers true when it answered.
 */
export function brotliStatic(appDir: string): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  const root = join(appDir, '.next', 'static');
  const cache = new Map<string, Promise<Buffer | null>>();
  const load = (file: string) =>
    readFile(file).then(
      (body) => compress(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      () => null,
    );
  return async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url ?? '').split('?')[0] as string;
    if (!path.startsWith(PREFIX) || !acceptsBrotli(request.headers['accept-encoding'])) return false;
    const type = TYPES[path.slice(path.lastIndexOf('.'))];
    if (!type) return false;
    let relative: string;
    try {
      relative = normalize(decodeURIComponent(path.slice(PREFIX.length)));
    } catch {
      return false;
    }
    // Only files inside the build's static folder: no "..", no absolute path.
    if (relative.startsWith('..') || relative.startsWith(sep) || relative.split(sep).includes('..')) return false;
    const file = join(root, relative);
    let pending = cache.get(file);
    if (!pending) {
      pending = load(file);
      cache.set(file, pending);
    }
    const body = await pending;
    if (!body) {
      cache.delete(file);
      return false;
    }
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
}
