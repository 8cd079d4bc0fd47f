// A minimal RGB (8-bit, 3 bytes per pixel, row-major) canvas for synthetic frames. Everything is clipped to
// the canvas, so callers can lay out in fractions of the frame size without bounds checks.

import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows, textWidth } from './bitmap-font.ts';

export type Rgb = readonly [r: number, g: number, b: number];

export class Raster {
  readonly width: number;
  readonly height: number;
  /** RGB24 pixels, width*height*3 bytes. */
  readonly data: Uint8Array;

  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(`Raster: invalid size ${width}x${height}`);
    }
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 3);
  }

  fill(color: Rgb): void {
    this.fillRect(0, 0, this.width, this.height, color);
  }

  /** Fills [x, x+w) × [y, y+h), clipped. Fractional coordinates are rounded. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    const d = this.data;
    const stride = this.width * 3;
    const rowStart = y0 * stride + x0 * 3;
    const rowBytes = (x1 - x0) * 3;
    const [r, g, b] = color;
    for (let i = rowStart; i < rowStart + rowBytes; i += 3) {
      d[i] = r;
      d[i + 1] = g;
      d[i + 2] = b;
    }
    // Later rows are byte copies of the first: far cheaper than per-pixel writes on large frames.
    for (let yy = y0 + 1; yy < y1; yy++) d.copyWithin(yy * stride + x0 * 3, rowStart, rowStart + rowBytes);
  }

  /** Outline of thickness `t` inside [x, x+w) × [y, y+h). */
  strokeRect(x: number, y: number, w: number, h: number, t: number, color: Rgb): void {
    this.fillRect(x, y, w, t, color);
    this.fillRect(x, y + h - t, w, t, color);
    this.fillRect(x, y, t, h, color);
    this.fillRect(x + w - t, y, t, h, color);
  }

  /** Vertical linear gradient from `top` to `bottom` over [x, x+w) × [y, y+h). */
  verticalGradient(x: number, y: number, w: number, h: number, top: Rgb, bottom: Rgb): void {
    const rh = Math.max(1, Math.round(h));
    for (let i = 0; i < rh; i++) {
      const t = rh === 1 ? 0 : i / (rh - 1);
      this.fillRect(x, Math.round(y) + i, w, 1, mix(top, bottom, t));
    }
  }

  /** Filled disc centred at (cx, cy). */
  fillCircle(cx: number, cy: number, radius: number, color: Rgb): void {
    const r2 = radius * radius;
    const yStart = Math.floor(cy - radius);
    const yEnd = Math.ceil(cy + radius);
    for (let yy = yStart; yy <= yEnd; yy++) {
      const dy = yy + 0.5 - cy;
      if (dy * dy > r2) continue;
      const dx = Math.sqrt(r2 - dy * dy);
      const xa = Math.round(cx - dx);
      const xb = Math.round(cx + dx);
      this.fillRect(xa, yy, xb - xa, 1, color);
    }
  }

  /** Draws `text` with its top-left corner at (x, y); each font pixel becomes a scale×scale square. */
  text(x: number, y: number, text: string, scale: number, color: Rgb): void {
    const s = Math.max(1, Math.floor(scale));
    let penX = Math.round(x);
    const top = Math.round(y);
    for (let i = 0; i < text.length; i++) {
      const rows = glyphRows(text.charCodeAt(i));
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        const bits = rows[gy] ?? 0;
        if (bits === 0) continue;
        // Merge horizontal runs of ink into one rectangle per run.
        let gx = 0;
        while (gx < GLYPH_WIDTH) {
          if ((bits & (1 << (GLYPH_WIDTH - 1 - gx))) === 0) {
            gx++;
            continue;
          }
          let end = gx + 1;
          while (end < GLYPH_WIDTH && (bits & (1 << (GLYPH_WIDTH - 1 - end))) !== 0) end++;
          this.fillRect(penX + gx * s, top + gy * s, (end - gx) * s, s, color);
          gx = end;
        }
      }
      penX += GLYPH_ADVANCE * s;
    }
  }

  /** Draws `text` horizontally centred on cx with its top at y. */
  textCentered(cx: number, y: number, text: string, scale: number, color: Rgb): void {
    const s = Math.max(1, Math.floor(scale));
    this.text(cx - textWidth(text, s) / 2, y, text, s, color);
  }

  /** Pixel at (x, y) as [r, g, b] (tests and debugging). */
  pixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i] ?? 0, this.data[i + 1] ?? 0, this.data[i + 2] ?? 0];
  }
}

/** Linear blend of two colours, t in [0, 1]. */
export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [
    Math.round(a[0] + (b[0] - a[0]) * t),
    Math.round(a[1] + (b[1] - a[1]) * t),
    Math.round(a[2] + (b[2] - a[2]) * t),
  ];
}

/** Largest integer scale (≥1) at which `text` fits in maxWidth × maxHeight pixels. */
export function fitScale(text: string, maxWidth: number, maxHeight: number): number {
  const byWidth = Math.floor(maxWidth / Math.max(1, textWidth(text, 1)));
  const byHeight = Math.floor(maxHeight / GLYPH_HEIGHT);
  return Math.max(1, Math.min(byWidth, byHeight));
}
