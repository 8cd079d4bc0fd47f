// Handshake helpers for the engine tests: build spec §3 handshake messages, open signaling/media sockets and
// assert refusals, all with the independent signature of ws-client.ts (spec §3.2).
import { expect } from 'bun:test';
import type { TestMock } from './mock.ts';
import { WsClient, sign } from './ws-client.ts';

export interface Created {
  meeting_uuid: string;
  rtms_stream_id: string;
  server_urls: string;
  media_server_urls: Record<string, string>;
  [k: string]: any;
}

/** spec §3.1 msg 1 for a created meeting; `over` replaces or adds fields (undefined removes one). */
export function signalingReq(c: { meeting_uuid: string; rtms_stream_id: string }, over: Record<string, unknown> = {}): Record<string, unknown> {
  return strip({
    msg_type: 1, protocol_version: 1, sequence: 1,
    meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(c.meeting_uuid, c.rtms_stream_id),
    ...over,
  });
}

/** spec §3.3 msg 3; `over` replaces or adds fields (undefined removes one). */
export function dataReq(c: { meeting_uuid: string; rtms_stream_id: string }, over: Record<string, unknown> = {}): Record<string, unknown> {
  return strip({
    msg_type: 3, protocol_version: 1, sequence: 0,
    meeting_uuid: c.meeting_uuid, rtms_stream_id: c.rtms_stream_id, signature: sign(c.meeting_uuid, c.rtms_stream_id),
    media_type: 32, payload_encryption: false,
    ...over,
  });
}

function strip(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export const signalingUrl = (mock: TestMock, path = '/signaling') => `ws://127.0.0.1:${mock.port}${path}`;
export const mediaUrl = (mock: TestMock, path: string) => `ws://127.0.0.1:${mock.mediaPort}/${path}`;

/** Opens a signaling socket and completes the handshake (expects success). */
export async function openSignaling(mock: TestMock, c: Created, over: Record<string, unknown> = {}): Promise<{ ws: WsClient; resp: any }> {
  const ws = await WsClient.open(signalingUrl(mock));
  ws.send(signalingReq(c, over));
  const resp = await ws.next((m) => m?.msg_type === 2, 3000, 'SIGNALING_HAND_SHAKE_RESP');
  expect(resp.status_code).toBe(0);
  return { ws, resp };
}

/** Opens a media socket on `path` and completes the data handshake (expects success). */
export async function openMedia(mock: TestMock, c: Created, path: string, over: Record<string, unknown> = {}): Promise<{ ws: WsClient; resp: any }> {
  const ws = await WsClient.open(mediaUrl(mock, path));
  ws.send(dataReq(c, over));
  const resp = await ws.next((m) => m?.msg_type === 4, 3000, 'DATA_HAND_SHAKE_RESP');
  expect(resp).toMatchObject({ status_code: 0, reason: '' });
  return { ws, resp };
}

/**
 * Sends `payload` on a fresh socket at `url` and expects a failed handshake reply (msg `respType`) with
 * `status`, a non-empty human reason, and the socket closed with 1000 (spec §3.1, §3.3).
 */
export async function expectRefused(url: string, payload: unknown, respType: 2 | 4, status: number, reason?: RegExp | string): Promise<any> {
  const ws = await WsClient.open(url);
  ws.send(payload);
  return expectRefusedOn(ws, respType, status, reason);
}

export async function expectRefusedOn(ws: WsClient, respType: 2 | 4, status: number, reason?: RegExp | string): Promise<any> {
  const resp = await ws.next((m) => m?.msg_type === respType, 3000, `msg ${respType} with status ${status}`);
  expect(resp).toEqual({
    msg_type: respType, protocol_version: 1, sequence: 0, status_code: status, reason: expect.any(String),
    ...(respType === 4 ? { payload_encrypted: false } : {}),
  });
  expect(resp.reason.length).toBeGreaterThan(0);
  if (reason !== undefined) expect(resp.reason).toMatch(reason);
  const closed = await withTimeout(ws.closed, 3000, 'socket close');
  expect(closed.code).toBe(1000);
  return resp;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, label: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => { t = setTimeout(() => rej(new Error(`timed out waiting for ${label}`)), ms); })]);
  } finally {
    clearTimeout(t);
  }
}

/** Tracks sockets a test opens so afterEach can close them. */
export class Sockets {
  private list: WsClient[] = [];
  add<T extends WsClient>(ws: T): T { this.list.push(ws); return ws; }
  closeAll(): void { for (const w of this.list.splice(0)) w.close(); }
}

/** mulberry32: a small seeded PRNG so generated inputs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
