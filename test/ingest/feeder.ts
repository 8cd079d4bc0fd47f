// A raw ingest feeder for the tests (no browser): the docs/ingest.md wire format built by hand here, a paced
// sine generator, and small signal checks (zero crossings, µ-law) independent of the server's code.
import { WsClient } from '../helpers/ws-client.ts';
import type { TestMock } from '../helpers/mock.ts';

export const ingestUrl = (mock: TestMock, uuid: string | null, extra = '') =>
  `ws://127.0.0.1:${mock.port}/ingest${uuid === null ? '' : `?meeting_uuid=${encodeURIComponent(uuid)}`}${extra}`;

/** docs/ingest.md §4: 16-byte little-endian header + payload. */
export function frame(kind: number, codec: number, payload: Uint8Array, o: { b2?: number; b3?: number; width?: number; height?: number; capture?: number } = {}): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const v = new DataView(out.buffer);
  out[0] = kind; out[1] = codec; out[2] = o.b2 ?? 0; out[3] = o.b3 ?? 0;
  v.setUint16(4, o.width ?? 0, true);
  v.setUint16(6, o.height ?? 0, true);
  v.setFloat64(8, o.capture ?? Date.now(), true);
  out.set(payload, 16);
  return out;
}

/** A sine at 48 kHz, phase-continuous across chunks. */
export class Sine {
  private n = 0;
  constructor(public freq: number, public amplitude = 8000) {}
  chunk(samples: number): Uint8Array {
    const b = new Uint8Array(samples * 2);
    const v = new DataView(b.buffer);
    for (let i = 0; i < samples; i++, this.n++) v.setInt16(2 * i, Math.round(this.amplitude * Math.sin((2 * Math.PI * this.freq * this.n) / 48000)), true);
    return b;
  }
}

export class Feeder {
  private timer: ReturnType<typeof setInterval> | null = null;
  welcome: any = null;

  private constructor(readonly ws: WsClient) {}

  static async open(mock: TestMock, uuid: string | null, extra = ''): Promise<Feeder> {
    return new Feeder(await WsClient.open(ingestUrl(mock, uuid, extra)));
  }

  /** hello → welcome (and the first wants). */
  static async join(mock: TestMock, uuid: string, hello: Record<string, unknown>): Promise<Feeder> {
    const f = await Feeder.open(mock, uuid);
    f.ws.send({ type: 'hello', ...hello });
    f.welcome = await f.ws.next((m) => m?.type === 'welcome' || m?.type === 'error', 3000, 'welcome');
    if (f.welcome.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(f.welcome)}`);
    return f;
  }

  get userId(): number {
    return this.welcome.user_id;
  }

  /** Sends 20 ms of `sine` every 20 ms (real time) until stopped. */
  startAudio(sine: Sine, channels: 1 | 2 = 1): void {
    this.stopAudio();
    const send = () => {
      const mono = sine.chunk(960);
      let payload = mono;
      if (channels === 2) {
        payload = new Uint8Array(mono.length * 2);
        for (let i = 0; i < 960; i++) { payload.set(mono.subarray(2 * i, 2 * i + 2), 4 * i); payload.set(mono.subarray(2 * i, 2 * i + 2), 4 * i + 2); }
      }
      if (!this.ws.isClosed) this.ws.send(frame(1, 1, payload, { b2: channels }));
    };
    send();
    this.timer = setInterval(send, 20);
  }

  stopAudio(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  close(): void {
    this.stopAudio();
    this.ws.close();
  }
}

/** Samples of little-endian s16 bytes. */
export function s16(b: Uint8Array): Int16Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Int16Array(b.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = v.getInt16(2 * i, true);
  return out;
}

/** G.711 µ-law byte → s16 (ITU-T G.711 expansion, written out here independently). */
export function ulaw(u: number): number {
  const x = ~u & 0xff;
  const t = (((x & 0x0f) << 3) + 0x84) << ((x & 0x70) >> 4);
  return x & 0x80 ? 0x84 - t : t - 0x84;
}

/** Frequency from zero crossings (rising and falling) over a stretch of samples. */
export function zeroCrossingHz(samples: Int16Array | number[], rate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if ((a < 0 && b >= 0) || (a >= 0 && b < 0)) crossings++;
  }
  return (crossings / 2) / (samples.length / rate);
}

/** Goertzel power of one frequency over a stretch of samples. */
export function goertzel(samples: ArrayLike<number>, rate: number, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) { const s0 = samples[i]! + k * s1 - s2; s2 = s1; s1 = s0; }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** The strongest frequency in [lo, hi] (Goertzel scan): robust to a short gap or a phase jump in the stretch. */
export function dominantHz(samples: ArrayLike<number>, rate: number, lo = 100, hi = 3000, step = 2): number {
  let best = lo;
  let bestPower = -1;
  for (let hz = lo; hz <= hi; hz += step) {
    const p = goertzel(samples, rate, hz);
    if (p > bestPower) { bestPower = p; best = hz; }
  }
  return best;
}

export function rmsOf(samples: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i]! * samples[i]!;
  return samples.length ? Math.sqrt(s / samples.length) : 0;
}

export function concat(parts: ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]!);
  return out;
}
