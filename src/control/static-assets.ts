// The web page's files (built by scripts/build-web.ts into web/dist/) behind one small interface, so the server
// can serve them from disk today and from assets embedded in a single executable later.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve, sep } from 'node:path';

export interface StaticAssets {
  /** The response for a URL path ("/", "/main.js", "/vendor/ffmpeg/core/ffmpeg-core.wasm"), or null if none. */
  get(path: string, request?: Request): Promise<Response | null>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Turns a URL path into a relative file path inside the asset root, or null when it is not a plain relative
 * path: "..", "." segments (also percent-encoded), backslashes, NUL, drive letters and absolute paths are
 * refused. "/" and directory-like paths map to their index.html.
 */
export function safeAssetPath(urlPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes('\\') || p.includes('\0') || /^[a-zA-Z]:/.test(p.replace(/^\/+/, ''))) return null;
  if (!p.startsWith('/')) return null;
  if (p.startsWith('//')) return null;
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  // Empty segments ("/a//b") are not addressable files either.
  if (segments.slice(0, -1).some((s) => s === '')) return null;
  let rel = segments.join('/');
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  if (isAbsolute(rel)) return null;
  return rel;
}

/** Long-lived caching only for the pinned vendor files; everything else revalidates (ETag) on each load. */
function cacheControl(rel: string): string {
  return rel.startsWith('vendor/') ? 'public, max-age=86400' : 'no-cache';
}

/** Serves the files under `rootDir` (normally web/dist). Missing files and unsafe paths give null. */
export function fileAssets(rootDir: string): StaticAssets {
  const root = resolve(rootDir);
  return {
    async get(urlPath, request) {
      const rel = safeAssetPath(urlPath);
      if (rel === null) return null;
      const full = resolve(join(root, rel));
      if (full !== root && !full.startsWith(root + sep)) return null;
      if (!existsSync(full)) return null;
      const st = statSync(full);
      if (!st.isFile()) return null;
      const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
      const headers: Record<string, string> = {
        'content-type': contentTypeFor(full),
        'cache-control': cacheControl(rel),
        etag,
        'last-modified': new Date(st.mtimeMs).toUTCString(),
        'x-content-type-options': 'nosniff',
      };
      if (request?.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
      // Bun streams the file; other runtimes (Deno) read it whole.
      const body = typeof Bun !== 'undefined' ? Bun.file(full) : new Uint8Array(await readFile(full));
      return new Response(body, { status: 200, headers });
    },
  };
}
