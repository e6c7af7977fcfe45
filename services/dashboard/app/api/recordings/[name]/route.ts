// GET /api/recordings/<file>: a recording from the restream service's folder, for a logged-in user
// only, with range requests (a big file resumes, a player seeks). Only names restream writes are served.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RECORDING_FILE_NAME } from '@irlkit/shared/schemas';
import parseRange from 'range-parser';
import { config } from '../../../../lib/config';
import { isLoggedIn } from '../../../../lib/session';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

async function serve(request: Request, context: { params: Promise<{ name: string }> }, withBody: boolean): Promise<Response> {
  if (!(await isLoggedIn())) return Response.json({ ok: false, error: 'login required' }, { status: 401 });
  const { name } = await context.params;
  if (!RECORDING_FILE_NAME.test(name)) return Response.json({ ok: false, error: 'name: not a recording' }, { status: 400 });
  const path = join(config().recordings.dir, name);
  const file = await stat(path).catch(() => undefined);
  if (!file?.isFile()) return Response.json({ ok: false, error: `no recording ${name}` }, { status: 404 });
  const headers = new Headers({
    'accept-ranges': 'bytes',
    'content-type': 'video/x-matroska',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'private, no-store',
    'last-modified': file.mtime.toUTCString(),
  });
  let start = 0;
  let end = file.size - 1;
  let status = 200;
  const range = request.headers.get('range');
  if (range) {
    const ranges = parseRange(file.size, range, { combine: true });
    if (ranges === -1) {
      headers.set('content-range', `bytes */${file.size}`);
      return new Response(null, { status: 416, headers });
    }
    // One range (several are answered whole, as a browser or player asks for one at a time).
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      start = ranges[0]?.start ?? 0;
      end = ranges[0]?.end ?? end;
      status = 206;
      headers.set('content-range', `bytes ${start}-${end}/${file.size}`);
    }
  }
  headers.set('content-length', String(file.size === 0 ? 0 : end - start + 1));
  if (!withBody || file.size === 0) return new Response(null, { status, headers });
  const body = Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>;
  return new Response(body, { status, headers });
}

export function GET(request: Request, context: { params: Promise<{ name: string }> }) {
  return serve(request, context, true);
}

export function HEAD(request: Request, context: { params: Promise<{ name: string }> }) {
  return serve(request, context, false);
}
