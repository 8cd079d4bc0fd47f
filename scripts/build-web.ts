#!/usr/bin/env bun
// Builds the web page into web/dist/: bundles the page's TypeScript entry points (the page, the AudioWorklet
// processor) with Bun.build, copies index.html, the CSS and local assets, and the pinned ffmpeg.wasm files into
// web/dist/vendor/ffmpeg/ (served by the mock; the page makes no external request). The output is swapped in
// at the end, so a running server never sees a half-built directory.
//   bun scripts/build-web.ts            (what `bun run build:web` and the bootstrap run)
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const dist = join(web, 'dist');
const tmp = join(web, `.dist-building-${process.pid}`);
const started = performance.now();

/** Page entry points → web/dist/<name>.js */
const ENTRY_POINTS = [join(web, 'src', 'main.ts'), join(web, 'src', 'pcm-capture.worklet.ts')];
/** Copied verbatim from web/ into web/dist/. */
const STATIC_FILES = ['index.html', 'styles.css'];
const STATIC_DIRS = ['assets'];
/** package → its files served under /vendor/ffmpeg/<dir>/ */
const VENDOR: { pkg: string; from: string; to: string; only?: string[] }[] = [
  { pkg: '@ffmpeg/ffmpeg', from: 'dist/esm', to: 'ffmpeg' },
  { pkg: '@ffmpeg/util', from: 'dist/esm', to: 'util' },
  { pkg: '@ffmpeg/core', from: 'dist/esm', to: 'core', only: ['ffmpeg-core.js', 'ffmpeg-core.wasm'] },
];

function fail(message: string): never {
  rmSync(tmp, { recursive: true, force: true });
  console.error(`[build-web] ${message}`);
  process.exit(1);
}

rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });

const result = await Bun.build({
  entrypoints: ENTRY_POINTS,
  outdir: tmp,
  target: 'browser',
  format: 'esm',
  naming: '[name].[ext]',
  minify: true,
  sourcemap: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  fail('bundling the page failed (see above)');
}

for (const f of STATIC_FILES) {
  if (!existsSync(join(web, f))) fail(`web/${f} is missing`);
  cpSync(join(web, f), join(tmp, f));
}
for (const d of STATIC_DIRS) if (existsSync(join(web, d))) cpSync(join(web, d), join(tmp, d), { recursive: true });

for (const v of VENDOR) {
  const src = join(root, 'node_modules', v.pkg, v.from);
  if (!existsSync(src)) fail(`${v.pkg} is not installed (node_modules/${v.pkg}/${v.from} missing): run \`bun install\``);
  const out = join(tmp, 'vendor', 'ffmpeg', v.to);
  mkdirSync(out, { recursive: true });
  const files = readdirSync(src).filter((f) => (v.only ? v.only.includes(f) : f.endsWith('.js')));
  for (const f of files) cpSync(join(src, f), join(out, f));
}
writeFileSync(join(tmp, 'build-info.json'), JSON.stringify({ built_at: new Date().toISOString() }) + '\n');

// Swap in: old → aside, new → dist, drop the old one.
const old = join(web, `.dist-old-${process.pid}`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(tmp, dist);
rmSync(old, { recursive: true, force: true });
const size = result.outputs.filter((o) => o.kind === 'entry-point').map((o) => {
  const name = o.path.split('/').pop()!;
  return `${name} ${(statSync(join(dist, name)).size / 1024).toFixed(0)} KiB`;
}).join(', ');
console.error(`[build-web] web/dist built in ${Math.round(performance.now() - started)} ms (${size})`);
