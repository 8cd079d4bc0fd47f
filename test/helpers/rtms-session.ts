// Shared by the engine media tests: a raw client for the production sequence (spec §1, §3: msg 1 → 2 on
// signaling, msg 3 → 4 on media, msg 7 on signaling, then media), the dialogue's timing read straight from
// data/speech/transcript.json, a clock the tests can move forward, and independent parsers (RMS, JPEG, PNG,
// H.264 Annex-B, RTP) so assertions do not reuse the server's own code.
import { readFileSync } from 'node:fs';
import type { Clock } from '../../src/engine/scheduler.ts';
import { DATA_DIR, type TestMock } from './mock.ts';
import { CLIENT_ID, CLIENT_SECRET, WsClient, sign, type Received } from './ws-client.ts';

// ---- the dialogue (what the synthetic meeting says, and when) ----

export interface Utterance { speaker: string; text: string; start_ms: number; end_ms: number }
export interface ChatLine { speaker: string; text: string; at_ms: number }
export interface SpeakerInfo { key: string; user_id: number; user_name: string }

export const SCRIPT = JSON.parse(readFileSync(`${DATA_DIR}/speech/transcript.json`, 'utf8')) as {
  duration_ms: number; speakers: SpeakerInfo[]; utterances: Utterance[]; chat: ChatLine[];
};
/** Loop length of the dialogue (ms). */
export const D = SCRIPT.duration_ms;
export const SPEAKER = Object.fromEntries(SCRIPT.speakers.map((s) => [s.key, s])) as Record<string, SpeakerInfo>;
export const USER_IDS = SCRIPT.speakers.map((s) => s.user_id);

/** Program offset of a media timestamp: (timestamp − created_at) mod duration_ms. */
export function offsetOf(ts: number, createdAt: number): number {
  return (((ts - createdAt) % D) + D) % D;
}

/** Utterances that overlap [from, to) of the loop. */
export function talkingIn(from: number, to: number): Utterance[] {
  return SCRIPT.utterances.filter((u) => u.start_ms < to && u.end_ms > from);
}

/**
 * Active speaker at a loop offset, computed from transcript.json: the newest voice among those talking;
 * silence keeps the last speaker (before anyone spoke in this loop: the last change of the previous loop).
 */
export function speakerAt(offset: number): SpeakerInfo {
  const edges = [...new Set(SCRIPT.utterances.flatMap((u) => [u.start_ms, u.end_ms]))].sort((a, b) => a - b);
  const changes: { at: number; key: string }[] = [];
  let cur = '';
  for (const t of edges) {
    const talking = SCRIPT.utterances.filter((u) => u.start_ms <= t && t < u.end_ms);
    if (talking.length === 0) continue;
    const newest = talking.reduce((a, b) => (b.start_ms > a.start_ms ? b : a));
    if (newest.speaker !== cur) { changes.push({ at: t, key: newest.speaker }); cur = newest.speaker; }
  }
  let key = changes[changes.length - 1]!.key;
  for (const c of changes) if (c.at <= offset) key = c.key;
  return SPEAKER[key]!;
}

/** Speaker changes (loop offsets) inside [from, to). */
export function speakerChangesIn(from: number, to: number): { at: number; speaker: SpeakerInfo }[] {
  const out: { at: number; speaker: SpeakerInfo }[] = [];
  let prev = speakerAt(from).key;
  for (const t of [...new Set(SCRIPT.utterances.flatMap((u) => [u.start_ms, u.end_ms]))].sort((a, b) => a - b)) {
    if (t <= from || t >= to) continue;
    const s = speakerAt(t);
    if (s.key !== prev) { out.push({ at: t, speaker: s }); prev = s.key; }
  }
  return out;
}

// ---- a clock the tests can move forward ----

/**
 * Real time plus a shift. `jump(ms)` moves the mock's clock forward (as if the process had been stalled), so a
 * test can start a meeting at any point of the 27 s dialogue instead of waiting for it. Pending host timers are
 * fired at once so the scheduler re-evaluates what is due. Arrival times recorded by WsClient are real time:
 * `toMock(at)` converts them.
 */
export class WarpClock implements Clock {
  shift = 0;
  /** Real time of each jump and the shift from then on, so `toMock` is right for arrivals before a later jump. */
  private shifts: { at: number; shift: number }[] = [];
  private timers = new Map<number, { fn: () => void; handle: ReturnType<typeof setTimeout> }>();
  private seq = 0;

  now(): number {
    return performance.timeOrigin + performance.now() + this.shift;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    const t = { fn, handle: setTimeout(() => { this.timers.delete(id); fn(); }, ms) };
    this.timers.set(id, t);
    return id;
  }

  clearTimer(id: unknown): void {
    const t = this.timers.get(id as number);
    if (!t) return;
    clearTimeout(t.handle);
    this.timers.delete(id as number);
  }

  jump(ms: number): void {
    this.shift += ms;
    this.shifts.push({ at: performance.timeOrigin + performance.now(), shift: this.shift });
    for (const [id, t] of this.timers) {
      clearTimeout(t.handle);
      t.handle = setTimeout(() => { this.timers.delete(id); t.fn(); }, 0);
    }
  }

  toMock(realAt: number): number {
    let shift = 0;
    for (const s of this.shifts) if (s.at <= realAt) shift = s.shift;
    return realAt + shift;
  }

  /** Sleeps (really) until the mock's clock reads `mockTime`. */
  async until(mockTime: number): Promise<void> {
    const ms = mockTime - this.now();
    if (ms > 0) await Bun.sleep(ms);
  }
}

// ---- meetings and the raw client ----

export interface MeetingRef { meeting_uuid: string; rtms_stream_id: string; createdAt: number }

export async function meetingInfo(mock: TestMock, uuid: string): Promise<any> {
  const r = await mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`);
  if (r.status !== 200) throw new Error(`GET /api/meetings → ${r.status}`);
  return r.body;
}

/** Creates a meeting; `created_at` from GET /api/meetings/{uuid} is the media grid origin. */
export async function newMeeting(mock: TestMock): Promise<MeetingRef> {
  const m = await mock.startMeeting(null);
  const info = await meetingInfo(mock, m.meeting_uuid);
  return { meeting_uuid: m.meeting_uuid, rtms_stream_id: m.rtms_stream_id, createdAt: info.created_at };
}

/** Creates a meeting and moves the clock so that its dialogue is now at `offset` ms. */
export async function meetingAtOffset(mock: TestMock, clock: WarpClock, offset: number): Promise<MeetingRef> {
  const m = await newMeeting(mock);
  const delta = m.createdAt + offset - clock.now();
  if (delta > 0) clock.jump(delta);
  await Bun.sleep(5); // let the scheduler run what the jump made due (nothing is connected yet)
  return m;
}

export interface SessionOptions {
  meeting?: MeetingRef;
  /** media_type bitmask (spec §3.3; default 32 = all). */
  mediaType?: number;
  mediaParams?: Record<string, unknown>;
  /** Event types to subscribe (msg 5) before CLIENT_READY_ACK. */
  events?: number[];
  path?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface Session extends MeetingRef {
  sig: WsClient;
  media: WsClient;
  /** The DATA_HAND_SHAKE_RESP (msg 4). */
  resp: any;
  close(): void;
}

function answerKeepAlives(c: WsClient): void {
  c.ws.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || !e.data.startsWith('{"msg_type":12')) return;
    try { c.send({ msg_type: 13, timestamp: JSON.parse(e.data).timestamp }); } catch { /* closed */ }
  });
}

/** Every socket a test opens, so afterEach can close them whatever happened. */
export const openClients = new Set<WsClient>();
export function closeAll(): void {
  for (const c of openClients) c.close();
  openClients.clear();
}

async function openClient(url: string): Promise<WsClient> {
  const c = await WsClient.open(url);
  openClients.add(c);
  answerKeepAlives(c);
  return c;
}

/** Signaling handshake, optional event subscription, data handshake, CLIENT_READY_ACK: media then flows. */
export async function openSession(mock: TestMock, o: SessionOptions = {}): Promise<Session> {
  const m = o.meeting ?? await newMeeting(mock);
  const signature = sign(m.meeting_uuid, m.rtms_stream_id, o.clientId ?? CLIENT_ID, o.clientSecret ?? CLIENT_SECRET);
  const sig = await openClient(`ws://127.0.0.1:${mock.port}/signaling`);
  sig.send({ msg_type: 1, protocol_version: 1, meeting_uuid: m.meeting_uuid, rtms_stream_id: m.rtms_stream_id, signature });
  const r2 = await sig.next((x) => x?.msg_type === 2, 5000, 'SIGNALING_HAND_SHAKE_RESP');
  if (r2.status_code !== 0) throw new Error(`signaling handshake failed: ${JSON.stringify(r2)}`);
  if (o.events?.length) sig.send({ msg_type: 5, events: o.events.map((t) => ({ event_type: t, subscribe: true })) });
  const media = await openClient(`ws://127.0.0.1:${mock.mediaPort}/${o.path ?? 'all'}`);
  media.send({
    msg_type: 3, protocol_version: 1, sequence: 0, meeting_uuid: m.meeting_uuid, rtms_stream_id: m.rtms_stream_id, signature,
    media_type: o.mediaType ?? 32, payload_encryption: false, media_params: o.mediaParams ?? {},
  });
  // Generous: the first handshake for a JPG/PNG size renders the whole frame loop.
  const resp = await media.next((x) => x?.msg_type === 4, 20000, 'DATA_HAND_SHAKE_RESP');
  if (resp.status_code !== 0) throw new Error(`data handshake failed: ${JSON.stringify(resp)}`);
  sig.send({ msg_type: 7, rtms_stream_id: m.rtms_stream_id });
  return { ...m, sig, media, resp, close() { sig.close(); media.close(); } };
}

export function ofType(c: WsClient, type: number): Received[] {
  return c.received.filter((r) => r.msg?.msg_type === type);
}

export function events(c: WsClient, eventType: number): Received[] {
  return c.received.filter((r) => r.msg?.msg_type === 6 && r.msg.event?.event_type === eventType);
}

export function bytesOf(r: Received): Uint8Array {
  return new Uint8Array(Buffer.from(r.msg.content.data, 'base64'));
}

// ---- measurements ----

export interface Cadence { count: number; meanGap: number; windowMs: number }

/** Message count in the first ~`windowMs` after the first arrival, and the mean arrival gap over all of them. */
export function cadence(rs: Received[], windowMs = 1000): Cadence {
  if (rs.length < 2) return { count: rs.length, meanGap: NaN, windowMs };
  const t0 = rs[0]!.at;
  const count = rs.filter((r) => r.at - t0 < windowMs).length;
  return { count, meanGap: (rs[rs.length - 1]!.at - t0) / (rs.length - 1), windowMs };
}

/** RMS of little-endian signed 16-bit samples. */
export function rms16(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let s = 0;
  const n = b.byteLength >> 1;
  for (let i = 0; i < n; i++) { const x = v.getInt16(i * 2, true); s += x * x; }
  return n ? Math.sqrt(s / n) : 0;
}

// ---- container parsers (independent of src/media) ----

/** Width and height from the JPEG SOF0 (baseline) marker; null if there is none. */
export function jpegSof0(b: Uint8Array): { width: number; height: number } | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { i += 2; continue; }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    if (marker === 0xc0) return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! };
    if (marker === 0xda) return null; // start of scan before any SOF0
    i += 2 + len;
  }
  return null;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Width and height from the PNG IHDR chunk (which must come first). */
export function pngIhdr(b: Uint8Array): { width: number; height: number } | null {
  if (!PNG_SIG.every((x, i) => b[i] === x)) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return null;
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/** nal_unit_type of every NAL unit of an Annex-B byte stream, in order (start codes 00 00 01 / 00 00 00 01). */
export function annexBNalTypes(b: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) { types.push(b[i + 3]! & 0x1f); i += 3; }
  }
  return types;
}

export function startsWithStartCode(b: Uint8Array): boolean {
  return (b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 1) || (b[0] === 0 && b[1] === 0 && b[2] === 1);
}

/** RFC 3550 fixed header. */
export function rtpHeader(b: Uint8Array) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    version: b[0]! >> 6, padding: (b[0]! >> 5) & 1, extension: (b[0]! >> 4) & 1, csrcCount: b[0]! & 0x0f,
    marker: b[1]! >> 7, payloadType: b[1]! & 0x7f, sequence: v.getUint16(2), timestamp: v.getUint32(4), ssrc: v.getUint32(8),
  };
}
