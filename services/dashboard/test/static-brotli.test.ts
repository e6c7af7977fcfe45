// The dashboard's scripts reach a browser that accepts brotli compressed with it (Next alone sends gzip),
// once the server has compressed its build (in the background, at start), byte for byte the same file; nothing outside the build's static folder is served
// that way, and clients without br get Next's own answer.
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startDashboard, startNats, type TestDashboard, type TestNats, waitFor } from '@irlkit/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsBrotli } from '../lib/static-brotli.ts';

let nats: TestNats;
let dashboard: TestDashboard;
beforeAll(async () => {
  nats = await startNats();
  dashboard = await startDashboard(nats);
});
afterAll(async () => {
  await dashboard?.stop();
  await nats?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET (no automatic decompression), with the Accept-Encoding given. */
function get(path: string, acceptEncoding: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${dashboard.url}${path}`, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('scripts compressed with brotli', () => {
  it('reads Accept-Encoding', () => {
    expect(acceptsBrotli('gzip, deflate, br, zstd')).toBe(true);
    expect(acceptsBrotli('br;q=0.5')).toBe(true);
    expect(acceptsBrotli('gzip, br;q=0')).toBe(false);
    expect(acceptsBrotli('gzip')).toBe(false);
    expect(acceptsBrotli(undefined)).toBe(false);
    expect(acceptsBrotli('brotli')).toBe(false);
  });

  it("serves every script of the login page with br when asked, the same bytes as Next's answer, and smaller", async () => {
    const page = await get('/login', 'identity');
    expect(page.status).toBe(200);
    const scripts = [...page.body.toString().matchAll(/src="(\/_next\/static\/[^"]+\.js)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(2);
    let brTotal = 0;
    let gzipTotal = 0;
    for (const script of new Set(scripts)) {
      // The server compresses its build in the background after it starts; until a file is done, Next answers.
      const br = await waitFor(
        async () => {
          const answer = await get(script, 'gzip, deflate, br');
          expect(answer.status, script).toBe(200);
          return answer.headers['content-encoding'] === 'br' ? answer : undefined;
        },
        `${script} sent with br`,
        60_000,
        200,
      );
      expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(br.headers.vary).toMatch(/Accept-Encoding/i);
      const gzip = await get(script, 'gzip');
      expect(gzip.status, script).toBe(200);
      // Next gzips all but the smallest files (about 1 KB and under it sends as they are).
      const encoding = gzip.headers['content-encoding'];
      expect([undefined, 'gzip'], `${script} without br: Next's own answer`).toContain(encoding);
      const plain = encoding === 'gzip' ? gunzipSync(gzip.body) : gzip.body;
      expect(brotliDecompressSync(br.body).equals(plain), `${script}: same file`).toBe(true);
      brTotal += br.body.length;
      gzipTotal += gzip.body.length;
    }
    process.stdout.write(`login page scripts: br ${(brTotal / 1024).toFixed(1)} KB, gzip ${(gzipTotal / 1024).toFixed(1)} KB\n`);
    expect(brTotal).toBeLessThan(gzipTotal);
  });

  it('serves nothing outside the static folder, and leaves unknown files to Next', async () => {
    for (const path of ['/_next/static/..%2f..%2fserver.ts', '/_next/static/%2e%2e/%2e%2e/package.json', '/_next/static/chunks/nothing-here.js']) {
      const answer = await get(path, 'br');
      expect(answer.headers['content-encoding'], path).not.toBe('br');
      expect(answer.status, path).toBe(404);
    }
  });
});
