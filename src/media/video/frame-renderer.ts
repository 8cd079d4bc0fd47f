// Draws synthetic video frames: a participant's camera, a screen share, or a gallery grid (spec §8: camera frames
// show the participant's name, share frames a "screen"). Every frame carries a visible counter ("#0042") and
// an element that moves smoothly around the loop, so a viewer (or a test) can see frames advance and repeat.
// Positions are periodic in the loop length, so the last frame flows into the first.

import type { VideoSubject } from '../types.ts';
import { fitScale, mix, Raster, type Rgb } from './raster.ts';
import { textHeight, textWidth } from './bitmap-font.ts';

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** Background colours for participants: mid-dark so white text stays legible. */
const PALETTE: readonly Rgb[] = [
  [0x2f, 0x6f, 0xb3], // blue
  [0x2e, 0x8b, 0x57], // green
  [0xb3, 0x4d, 0x2f], // rust
  [0x7b, 0x3f, 0xa0], // purple
  [0x1f, 0x8a, 0x8a], // teal
  [0xa8, 0x32, 0x6a], // magenta
  [0x8a, 0x6d, 0x1f], // ochre
  [0x45, 0x55, 0x6b], // slate
];

/** FNV-1a over UTF-16 code units: stable across runs and platforms, so a name always gets the same colour. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The participant's background colour, deterministic from the name. */
export function userColor(userName: string): Rgb {
  return PALETTE[hashName(userName) % PALETTE.length] ?? PALETTE[0]!;
}

/** "#0042": the frame number within the loop, zero-padded. */
export function counterLabel(frame: number): string {
  return `#${String(frame).padStart(4, '0')}`;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter((p) => p.length > 0);
  const letters = parts.length === 0 ? '?' : parts.length === 1 ? parts[0]!.slice(0, 2) : parts[0]![0]! + parts[parts.length - 1]![0]!;
  return letters.toUpperCase();
}

/** Phase in [0, 1) of frame `frame` in a loop of `loopFrames`. */
function phase(frame: number, loopFrames: number): number {
  return loopFrames > 0 ? (frame % loopFrames) / loopFrames : 0;
}

/** Counter in a dark box at the bottom-right corner. */
function drawCounter(r: Raster, frame: number): void {
  const label = counterLabel(frame);
  const s = Math.max(2, Math.round(r.height / 120));
  const pad = 2 * s;
  const w = textWidth(label, s) + 2 * pad;
  const h = textHeight(s) + 2 * pad;
  const x = r.width - w - Math.round(r.height * 0.03);
  const y = r.height - h - Math.round(r.height * 0.03);
  r.fillRect(x, y, w, h, BLACK);
  r.text(x + pad, y + pad, label, s, WHITE);
}

function drawCamera(r: Raster, userName: string, userId: number, frame: number, loopFrames: number): void {
  const { width: W, height: H } = r;
  const base = userColor(userName);
  r.verticalGradient(0, 0, W, H, mix(base, WHITE, 0.12), mix(base, BLACK, 0.4));

  // Avatar disc with initials.
  const cx = W / 2;
  const cy = H * 0.34;
  const radius = H * 0.16;
  r.fillCircle(cx, cy, radius, mix(base, WHITE, 0.35));
  const ini = initials(userName);
  const iniScale = fitScale(ini, radius * 1.2, radius * 0.9);
  r.textCentered(cx, cy - textHeight(iniScale) / 2, ini, iniScale, mix(base, BLACK, 0.45));

  // The name, as large as fits.
  const nameScale = fitScale(userName, W * 0.85, H * 0.13);
  const nameY = H * 0.56;
  r.textCentered(cx, nameY, userName, nameScale, WHITE);
  const sub = `user ${userId}`;
  const subScale = fitScale(sub, W * 0.5, H * 0.035);
  r.textCentered(cx, nameY + textHeight(nameScale) + H * 0.03, sub, subScale, mix(base, WHITE, 0.6));

  // Moving element: a dot swinging along a track near the bottom.
  const trackY = H * 0.88;
  const dot = Math.max(3, H * 0.025);
  r.fillRect(W * 0.15, trackY - Math.max(1, H * 0.003), W * 0.7, Math.max(2, H * 0.006), mix(base, WHITE, 0.3));
  const x = cx + W * 0.35 * Math.sin(2 * Math.PI * phase(frame, loopFrames));
  r.fillCircle(x, trackY, dot, WHITE);

  drawCounter(r, frame);
}

const SLIDE_LINES: readonly number[] = [0.72, 0.56, 0.64, 0.42, 0.5];

function drawShare(r: Raster, userName: string, frame: number, loopFrames: number): void {
  const { width: W, height: H } = r;
  r.fill([0x1e, 0x24, 0x30]); // desktop

  // Window with a title bar.
  const m = Math.round(H * 0.04);
  const winX = m, winY = m, winW = W - 2 * m, winH = H - 2 * m;
  const barH = Math.max(8, Math.round(H * 0.06));
  r.fillRect(winX, winY, winW, winH, [0xf4, 0xf5, 0xf7]);
  r.fillRect(winX, winY, winW, barH, [0x3a, 0x40, 0x4c]);
  const dotR = barH * 0.2;
  const dots: Rgb[] = [[0xff, 0x5f, 0x57], [0xfe, 0xbc, 0x2e], [0x28, 0xc8, 0x40]];
  dots.forEach((c, i) => r.fillCircle(winX + barH * (0.6 + i * 0.55), winY + barH / 2, dotR, c));
  const title = `Screen share - ${userName}`;
  const titleScale = fitScale(title, winW * 0.6, barH * 0.55);
  r.textCentered(winX + winW / 2, winY + (barH - textHeight(titleScale)) / 2, title, titleScale, WHITE);

  // Slide: heading, accent rule, bullet lines.
  const padX = winX + Math.round(winW * 0.07);
  const contentW = winW * 0.86;
  let y = winY + barH + H * 0.07;
  const heading = 'Screen share';
  const headScale = fitScale(heading, contentW * 0.7, H * 0.1);
  r.text(padX, y, heading, headScale, [0x1f, 0x2a, 0x44]);
  y += textHeight(headScale) + H * 0.025;
  r.fillRect(padX, y, contentW * 0.25, Math.max(2, H * 0.008), [0x2d, 0x8c, 0xff]);
  y += H * 0.06;
  const lineH = Math.max(3, H * 0.028);
  for (const frac of SLIDE_LINES) {
    r.fillRect(padX, y, lineH, lineH, [0x2d, 0x8c, 0xff]);
    r.fillRect(padX + lineH * 2, y, contentW * frac, lineH, [0xc5, 0xcb, 0xd6]);
    y += lineH * 2.4;
  }
  const by = `Shared by ${userName}`;
  const byScale = fitScale(by, contentW * 0.5, H * 0.045);
  const byY = winY + winH - H * 0.1;
  r.text(padX, byY, by, byScale, [0x4a, 0x55, 0x68]);

  // Moving elements: a progress bar across the slide and a "laser pointer" tracing an ellipse.
  const p = phase(frame, loopFrames);
  const barY = winY + winH - Math.max(3, H * 0.012);
  r.fillRect(winX, barY, winW * ((frame % Math.max(1, loopFrames)) + 1) / Math.max(1, loopFrames), winY + winH - barY, [0x2d, 0x8c, 0xff]);
  const px = winX + winW * (0.62 + 0.2 * Math.cos(2 * Math.PI * p));
  const py = winY + barH + (winH - barH) * (0.45 + 0.2 * Math.sin(2 * Math.PI * p));
  r.fillCircle(px, py, Math.max(3, H * 0.018), [0xe5, 0x2b, 0x2b]);

  drawCounter(r, frame);
}

function drawGallery(r: Raster, names: readonly string[], frame: number, loopFrames: number): void {
  const { width: W, height: H } = r;
  const list = names.length > 0 ? names : ['Gallery'];
  const n = list.length;
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const gap = Math.max(2, Math.round(H * 0.012));
  r.fill([0x12, 0x14, 0x18]);
  const tileW = (W - gap * (cols + 1)) / cols;
  const tileH = (H - gap * (rows + 1)) / rows;
  // The highlighted ("speaking") tile moves through the grid over one loop.
  const active = Math.floor(phase(frame, loopFrames) * n) % n;
  list.forEach((name, i) => {
    const x = gap + (i % cols) * (tileW + gap);
    const y = gap + Math.floor(i / cols) * (tileH + gap);
    const base = userColor(name);
    r.fillRect(x, y, tileW, tileH, mix(base, BLACK, 0.15));
    const s = fitScale(name, tileW * 0.8, tileH * 0.16);
    r.textCentered(x + tileW / 2, y + (tileH - textHeight(s)) / 2, name, s, WHITE);
    if (i === active) r.strokeRect(x, y, tileW, tileH, Math.max(2, Math.round(gap * 0.8)), [0x7c, 0xfc, 0x4a]);
  });
  // A dot sweeping along the bottom edge, so motion is visible in every tile layout.
  const dx = W / 2 + W * 0.4 * Math.sin(2 * Math.PI * phase(frame, loopFrames));
  r.fillCircle(dx, H - gap * 2.5, Math.max(3, gap * 1.2), WHITE);
  drawCounter(r, frame);
}

/** Draws frame `frame` of a `loopFrames`-frame loop for `subject` over the whole raster. */
export function drawFrame(r: Raster, subject: VideoSubject, frame: number, loopFrames: number): void {
  switch (subject.kind) {
    case 'camera':
      drawCamera(r, subject.userName, subject.userId, frame, loopFrames);
      break;
    case 'share':
      drawShare(r, subject.userName, frame, loopFrames);
      break;
    case 'gallery':
      drawGallery(r, subject.userNames, frame, loopFrames);
      break;
  }
}

/** Convenience: a new raster of the given size with one frame drawn. */
export function renderFrame(subject: VideoSubject, width: number, height: number, frame: number, loopFrames: number): Raster {
  const r = new Raster(width, height);
  drawFrame(r, subject, frame, loopFrames);
  return r;
}
