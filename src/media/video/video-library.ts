// The VideoLibrary (src/media/types.ts): encoded frame loops for camera, share and gallery subjects.
// JPG/PNG loops are drawn and encoded here on first use; H264 loops come pre-encoded from data/video/h264
// (scripts/generate-video.sh). Everything is cached, so the engine only paces bytes (spec §8).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { VideoCodec, VideoLibrary, VideoSubject } from '../types.ts';
import { drawFrame } from './frame-renderer.ts';
import { isKeyFrame, splitAccessUnits } from './h264.ts';
import { encodeJpeg } from './jpeg-encoder.ts';
import { encodePng } from './png-encoder.ts';
import { Raster } from './raster.ts';

/** Largest frame edge accepted for rendered codecs (the protocol's largest is QHD 2560×1440, spec §6). */
export const MAX_DIMENSION = 4096;

/**
 * Loop length for JPG/PNG. The first request for a (subject, codec, size) renders and encodes the whole loop
 * synchronously, so the loop is sized by a pixel budget: about 64 Mpx of frames, rounded down to a multiple of 5
 * (JPG/PNG run at up to 5 fps, spec §8, so a loop lasts whole seconds) and kept within 5-50 frames.
 * SD 50 frames, HD 50, FHD 30, QHD 15 — each under ~1 s to build on a 2-core machine (JPEG ≈ 10 ms/Mpx).
 */
export const STILL_LOOP_PIXEL_BUDGET = 64_000_000;

export function stillLoopFrames(width: number, height: number): number {
  const n = Math.floor(STILL_LOOP_PIXEL_BUDGET / (width * height) / 5) * 5;
  return Math.min(50, Math.max(5, n));
}

export interface VideoLibraryOptions {
  /** JPEG quality 1-100 (default 75). */
  jpegQuality?: number;
  /** zlib level for PNG (default 6). */
  pngLevel?: number;
  /**
   * Render JPG/PNG loops in the background: frames() returns the first frame at once and the array grows, one
   * frame per macrotask, until the loop is complete (then it is frozen). A server uses this so a first request
   * never blocks the event loop for the whole loop (~0.5 s for HD), which would stall every other meeting.
   */
  progressive?: boolean;
}

/** data/video/h264/manifest.json, written by scripts/generate-video.sh. */
const ManifestSchema = z.object({
  version: z.literal(1),
  fps: z.number().int().positive(),
  frames: z.number().int().positive(),
  gop: z.number().int().positive(),
  streams: z.array(
    z.object({
      key: z.string().regex(/^[a-z0-9_-]+$/),
      kind: z.enum(['camera', 'share', 'fallback']),
      label: z.string(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      // A bare file name: the manifest must not point outside its directory.
      file: z.string().regex(/^[A-Za-z0-9._-]+\.h264$/),
      bytes: z.number().int().positive(),
    }),
  ).min(1),
});
type Manifest = z.infer<typeof ManifestSchema>;
type ManifestStream = Manifest['streams'][number];

const CODECS: readonly VideoCodec[] = ['JPG', 'PNG', 'H264'];

/** Cache key that ignores property order and carries every field that changes the picture. */
function subjectKey(s: VideoSubject): string {
  switch (s.kind) {
    case 'camera':
    case 'share':
      return `${s.kind}\u0000${s.userId}\u0000${s.userName}`;
    case 'gallery':
      return `gallery\u0000${s.userNames.join('\u0000')}`;
  }
}

/** @param dataDir the project's data directory (the one holding video/h264/). */
export function createVideoLibrary(dataDir: string, options: VideoLibraryOptions = {}): VideoLibrary {
  const h264Dir = join(dataDir, 'video', 'h264');
  const cache = new Map<string, readonly Uint8Array[]>();
  const h264ByFile = new Map<string, readonly Uint8Array[]>();
  let manifest: Manifest | undefined;

  function loadManifest(): Manifest {
    if (manifest) return manifest;
    const path = join(h264Dir, 'manifest.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`H264 video data missing (${path}); run: bash scripts/generate-video.sh`);
    }
    const parsed = ManifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${path} is invalid: ${z.prettifyError(parsed.error)}`);
    manifest = parsed.data;
    return manifest;
  }

  function pickStream(m: Manifest, subject: VideoSubject, width: number, height: number): ManifestStream {
    const atSize = m.streams.filter((s) => s.width === width && s.height === height);
    if (atSize.length === 0) {
      const sizes = [...new Set(m.streams.map((s) => `${s.width}x${s.height}`))].join(', ');
      throw new Error(`H264 video is pre-encoded only at ${sizes} (spec §6); no stream for ${width}x${height}`);
    }
    // Named cameras get their own stream; other names and galleries share the generic "Participant" one.
    const wanted = subject.kind === 'camera' ? subject.userName.trim().toLowerCase() : undefined;
    const found =
      (subject.kind === 'share' && atSize.find((s) => s.kind === 'share')) ||
      (wanted !== undefined && atSize.find((s) => s.kind === 'camera' && s.label.toLowerCase() === wanted)) ||
      atSize.find((s) => s.kind === 'fallback');
    if (!found) throw new Error(`H264 manifest has no fallback stream at ${width}x${height}`);
    return found;
  }

  function loadH264(subject: VideoSubject, width: number, height: number): readonly Uint8Array[] {
    const m = loadManifest();
    const stream = pickStream(m, subject, width, height);
    const cached = h264ByFile.get(stream.file);
    if (cached) return cached;
    const path = join(h264Dir, stream.file);
    const bytes = new Uint8Array(readFileSync(path));
    if (bytes.length !== stream.bytes) {
      throw new Error(`${path}: ${bytes.length} bytes, manifest says ${stream.bytes}; re-run scripts/generate-video.sh`);
    }
    const aus = splitAccessUnits(bytes);
    // The engine loops these blindly, so the loop must be exactly what the manifest promises and start decodable.
    if (aus.length !== m.frames || !aus[0] || !isKeyFrame(aus[0])) {
      throw new Error(`${path}: expected ${m.frames} access units starting with a key frame, got ${aus.length}`);
    }
    const frozen = Object.freeze(aus);
    h264ByFile.set(stream.file, frozen);
    return frozen;
  }

  function renderLoop(subject: VideoSubject, codec: 'JPG' | 'PNG', width: number, height: number): readonly Uint8Array[] {
    const count = stillLoopFrames(width, height);
    const raster = new Raster(width, height);
    const frames: Uint8Array[] = [];
    const renderNext = () => {
      const i = frames.length;
      drawFrame(raster, subject, i, count);
      frames.push(
        codec === 'JPG'
          ? encodeJpeg(raster.data, width, height, { quality: options.jpegQuality ?? 75 })
          : encodePng(raster.data, width, height, { level: options.pngLevel ?? 6 }),
      );
    };
    renderNext();
    if (!options.progressive) {
      while (frames.length < count) renderNext();
      return Object.freeze(frames);
    }
    // The same array object grows in place (callers and caches keep its identity), frozen once complete.
    backlog.push(() => {
      renderNext();
      if (frames.length < count) return false;
      Object.freeze(frames);
      return true;
    });
    if (backlog.length === 1) setTimeout(drainBacklog, 0);
    return frames;
  }

  /** One frame per macrotask, oldest loop first: timers and sockets run between frames. */
  const backlog: (() => boolean)[] = [];
  function drainBacklog(): void {
    const job = backlog[0];
    if (!job) return;
    try {
      if (job()) backlog.shift();
    } catch (err) {
      backlog.shift();
      console.error('[video] background rendering failed:', err);
    }
    if (backlog.length > 0) setTimeout(drainBacklog, 0);
  }

  return {
    renderBacklog: () => backlog.length,
    frames(subject: VideoSubject, codec: VideoCodec, width: number, height: number): readonly Uint8Array[] {
      if (!CODECS.includes(codec)) throw new Error(`unsupported video codec ${String(codec)}`);
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
        throw new RangeError(`invalid video size ${width}x${height}`);
      }
      const key = `${codec}\u0000${width}x${height}\u0000${subjectKey(subject)}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const frames = codec === 'H264' ? loadH264(subject, width, height) : renderLoop(subject, codec, width, height);
      cache.set(key, frames);
      return frames;
    },
  };
}
