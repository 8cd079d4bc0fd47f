// What a single executable carries inside it (scripts/build.ts): the synthetic media and default credentials
// (data/), the built web page (web/dist/) and the build's identity. The generated entry point of the executable
// (src/generated/entry-<pid>.ts, written by scripts/build.ts and never committed) registers them here before the CLI
// runs; when the sources run directly (bun src/index.ts, deno run src/index.ts) nothing is registered and the
// checkout's data/ and web/dist/ are used. Runtime-neutral: paths only, read with node:fs like any other.
import { existsSync } from 'node:fs';
import { fileAssets, type StaticAssets } from './control/static-assets.ts';

export interface BuildInfo {
  /** Short git commit the executable was built from, "unknown" outside a git checkout. */
  commit: string;
  /** True when the working tree had uncommitted changes at build time. */
  dirty: boolean;
  /** ISO date of the build. */
  date: string;
  /** Bun compile target, e.g. bun-linux-x64. */
  target: string;
}

export interface EmbeddedBundle {
  /** Directory inside the executable's virtual file system holding a copy of data/ (null if not embedded). */
  dataDir: string | null;
  /** Directory inside the executable holding a copy of web/dist/ (null when the page was not built). */
  webDir: string | null;
  /** Number of files embedded, for the start-up log. */
  files: number;
  build: BuildInfo;
}

let bundle: EmbeddedBundle | null = null;

/** Called once by the executable's generated entry point, before the CLI starts. */
export function registerEmbedded(b: EmbeddedBundle): void {
  bundle = b;
}

/** The executable's embedded files and build info, or null when running from the sources. */
export function embedded(): EmbeddedBundle | null {
  return bundle;
}

/**
 * The directory an embedded file lives in, from the path the bundler gave it: `/$bunfs/root/data/x/y.json`
 * with relative path `data/x/y.json` gives `/$bunfs/root/data`. Used by the generated entry point.
 */
export function embeddedRoot(embeddedPath: string, relativePath: string, rootName: string): string | null {
  const p = embeddedPath.replaceAll('\\', '/');
  if (!p.endsWith(relativePath)) return null;
  const base = p.slice(0, p.length - relativePath.length);
  return `${base}${rootName}`;
}

/** The embedded web page as static assets, or null when none was embedded (or it cannot be read). */
export function embeddedAssets(): StaticAssets | null {
  if (!bundle?.webDir || !existsSync(bundle.webDir)) return null;
  return fileAssets(bundle.webDir);
}

/** "0.1.0 (build 1a2b3c4, 2025-01-31, bun-linux-x64)" or "0.1.0 (from source)". */
export function versionLine(version: string): string {
  const b = bundle?.build;
  if (!b) return `${version} (from source)`;
  return `${version} (build ${b.commit}${b.dirty ? '+dirty' : ''}, ${b.date}, ${b.target})`;
}
