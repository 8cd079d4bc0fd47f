// Loads ffmpeg.wasm from the mock itself (web/dist/vendor/ffmpeg/, copied from the pinned npm packages by
// scripts/build-web.ts): no CDN. The 31 MB core is downloaded once per page with a progress callback and
// shared by every FFmpeg instance (each instance runs in its own worker).
import type { FFmpeg } from '@ffmpeg/ffmpeg';

export type Progress = (fraction: number, label: string) => void;

const vendor = (path: string) => new URL(`/vendor/ffmpeg/${path}`, location.href).href;

let wasmBlobUrl: Promise<string> | null = null;

async function downloadWasm(onProgress: Progress): Promise<string> {
  const url = vendor('core/ffmpeg-core.wasm');
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    throw new Error('could not download ffmpeg-core.wasm from the mock: is the server still running?');
  }
  if (!res.ok) throw new Error(`ffmpeg-core.wasm: HTTP ${res.status}. Rebuild the page with \`bun run build:web\` (it copies ffmpeg.wasm into web/dist/vendor).`);
  const total = Number(res.headers.get('content-length')) || 32 * 1024 * 1024;
  const reader = res.body?.getReader();
  if (!reader) return URL.createObjectURL(new Blob([await res.arrayBuffer()], { type: 'application/wasm' }));
  const chunks: Uint8Array[] = [];
  let got = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
    const now = performance.now();
    if (now - lastReport > 100) { lastReport = now; onProgress(Math.min(1, got / total), `Downloading ffmpeg.wasm (${(got / 1048576).toFixed(0)} of ${(total / 1048576).toFixed(0)} MB)`); }
  }
  onProgress(1, 'Downloading ffmpeg.wasm: done');
  return URL.createObjectURL(new Blob(chunks as BlobPart[], { type: 'application/wasm' }));
}

/** A new FFmpeg instance (own worker), loaded and ready. */
export async function loadFfmpeg(onProgress: Progress = () => {}): Promise<FFmpeg> {
  let mod: typeof import('@ffmpeg/ffmpeg');
  try {
    mod = (await import(/* @vite-ignore */ vendor('ffmpeg/index.js'))) as typeof import('@ffmpeg/ffmpeg');
  } catch (err) {
    throw new Error(`could not load ffmpeg.wasm's script from /vendor/ffmpeg/ (${(err as Error).message}); rebuild the page with \`bun run build:web\``);
  }
  if (!wasmBlobUrl) {
    wasmBlobUrl = downloadWasm(onProgress);
    wasmBlobUrl.catch(() => { wasmBlobUrl = null; });
  }
  const wasmURL = await wasmBlobUrl;
  onProgress(1, 'Starting ffmpeg.wasm…');
  const ff = new mod.FFmpeg();
  try {
    await ff.load({ coreURL: vendor('core/ffmpeg-core.js'), wasmURL });
  } catch (err) {
    throw new Error(`ffmpeg.wasm failed to start: ${(err as Error)?.message ?? err}`);
  }
  return ff;
}
