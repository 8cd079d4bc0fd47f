// The web page's files (src/control/static-assets.ts): content types, index.html for "/", ETag revalidation,
// and refusal of every path that would leave the asset root; through the real server, the placeholder page
// when nothing is built.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileAssets, safeAssetPath } from '../../src/control/static-assets.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';

let root = '';
let outside = '';
let mock: TestMock | null = null;

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'rtms-assets-'));
  root = join(base, 'dist');
  outside = join(base, 'secret.txt');
  mkdirSync(join(root, 'vendor', 'ffmpeg', 'core'), { recursive: true });
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(root, 'main.js'), 'console.log(1)');
  writeFileSync(join(root, 'styles.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'icon.svg'), '<svg/>');
  writeFileSync(join(root, 'assets', 'a.png'), new Uint8Array([137, 80, 78, 71]));
  writeFileSync(join(root, 'vendor', 'ffmpeg', 'core', 'ffmpeg-core.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(outside, 'do not serve');
  mock = await startMock({ assets: fileAssets(root) });
});

afterAll(async () => {
  await mock?.stop({ graceful: false });
  rmSync(join(root, '..'), { recursive: true, force: true });
});

test('content types, index.html for /, and cache headers', async () => {
  const a = fileAssets(root);
  const types: Record<string, string> = {
    '/': 'text/html', '/index.html': 'text/html', '/main.js': 'text/javascript', '/styles.css': 'text/css',
    '/assets/icon.svg': 'image/svg+xml', '/assets/a.png': 'image/png', '/vendor/ffmpeg/core/ffmpeg-core.wasm': 'application/wasm',
  };
  for (const [path, type] of Object.entries(types)) {
    const r = await a.get(path);
    expect(r?.status, path).toBe(200);
    expect(r!.headers.get('content-type')).toStartWith(type);
  }
  expect((await a.get('/main.js'))!.headers.get('cache-control')).toBe('no-cache');
  expect((await a.get('/vendor/ffmpeg/core/ffmpeg-core.wasm'))!.headers.get('cache-control')).toContain('max-age');
  expect(await (await a.get('/'))!.text()).toContain('<title>page</title>');
  expect(await a.get('/nope.js')).toBeNull();
  expect(await a.get('/assets')).toBeNull(); // a directory without index.html
});

test('an unchanged file revalidates with 304', async () => {
  const a = fileAssets(root);
  const etag = (await a.get('/main.js'))!.headers.get('etag')!;
  expect(etag).toBeTruthy();
  const r = await a.get('/main.js', new Request('http://x/main.js', { headers: { 'if-none-match': etag } }));
  expect(r!.status).toBe(304);
});

test('paths that leave the root are refused', async () => {
  const a = fileAssets(root);
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/assets/../../secret.txt', '/..%5csecret.txt',
    '/assets\\..\\..\\secret.txt', '//etc/passwd', '/%2Fetc%2Fpasswd', '/C:/Windows/win.ini', '/./main.js', '/%00main.js', '/%zz']) {
    expect(safeAssetPath(p) === null || (await a.get(p)) === null, p).toBe(true);
    expect(await a.get(p), p).toBeNull();
  }
  // Through the server, with the path sent exactly as written (fetch would normalise "..").
  for (const raw of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
    const res = await rawGet(mock!.port, raw);
    expect(res.status, raw).toBe(404);
    expect(res.body).not.toContain('do not serve');
  }
});

test('the server serves the page for GET / and keeps /api, /health and unknown API paths as JSON', async () => {
  const page = await fetch(`${mock!.baseUrl}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>page</title>');
  expect((await fetch(`${mock!.baseUrl}/health`)).headers.get('content-type')).toContain('application/json');
  const api404 = await fetch(`${mock!.baseUrl}/api/nope`);
  expect(api404.status).toBe(404);
  expect((await api404.json()).error.code).toBe('not_found');
});

test('without a built page, / is the placeholder telling how to build it', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'rtms-assets-empty-'));
  const m = await startMock({ assets: fileAssets(empty) });
  try {
    const res = await fetch(`${m.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('bun run build:web');
    expect((await fetch(`${m.baseUrl}/main.js`)).status).toBe(404);
  } finally {
    await m.stop({ graceful: false });
    rmSync(empty, { recursive: true, force: true });
  }
});

/** A GET whose path goes on the wire byte for byte (no URL normalisation). */
async function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let data = '';
    sock.on('data', (d) => { data += d.toString('latin1'); });
    sock.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
    sock.on('error', reject);
  });
}
