// A hand-driven RTMS app over raw WebSockets, for tests that must control every frame (e.g. which keep-alives
// get answered): signaling handshake (msg 1 → 2), data handshakes (msg 3 → 4), CLIENT_READY_ACK (msg 7). spec §3.
import { WsClient, sign } from './ws-client.ts';

export interface DrivenApp {
  meetingUuid: string;
  streamId: string;
  signaling: WsClient;
  media: Map<string, WsClient>;
  /** msg 2 as received. */
  signalingResp: any;
  /** Per-socket switch: answer KEEP_ALIVE_REQ (12) with KEEP_ALIVE_RESP (13) echoing the timestamp (spec §4.1). */
  answer: Map<WsClient, boolean>;
  /** Opens one more media socket on `path` and runs its data handshake. */
  openMedia(path: string, mediaType?: number): Promise<WsClient>;
  ready(): void;
  closeAll(): void;
}

const MEDIA_BIT: Record<string, number> = { all: 32, audio: 1, video: 2, deskshare: 4, transcript: 8, chat: 16 };

/** Answers msg 12 with msg 13 while `enabled()` is true. */
export function autoAnswer(c: WsClient, enabled: () => boolean): void {
  c.ws.addEventListener('message', (e) => {
    if (typeof e.data !== 'string' || !enabled()) return;
    let m: any;
    try { m = JSON.parse(e.data); } catch { return; }
    if (m?.msg_type === 12 && c.ws.readyState === WebSocket.OPEN) c.send({ msg_type: 13, timestamp: m.timestamp });
  });
}

/** Connects to a stream created through the API (its `server_urls`), like an app would after rtms_started. */
export async function driveApp(
  created: { meeting_uuid: string; rtms_stream_id: string; server_urls: string },
  opts: { paths?: string[]; ready?: boolean; answer?: boolean } = {},
): Promise<DrivenApp> {
  const meetingUuid = created.meeting_uuid;
  const streamId = created.rtms_stream_id;
  const signature = sign(meetingUuid, streamId);
  const answer = new Map<WsClient, boolean>();
  const track = (c: WsClient) => {
    answer.set(c, opts.answer ?? true);
    autoAnswer(c, () => answer.get(c) === true);
    return c;
  };
  const signaling = track(await WsClient.open(created.server_urls));
  signaling.send({ msg_type: 1, protocol_version: 1, meeting_uuid: meetingUuid, rtms_stream_id: streamId, signature });
  const signalingResp = await signaling.next((m) => m?.msg_type === 2, 3000, 'SIGNALING_HAND_SHAKE_RESP');
  if (signalingResp.status_code !== 0) throw new Error(`signaling handshake failed: ${JSON.stringify(signalingResp)}`);
  const urls = signalingResp.media_server.server_urls as Record<string, string>;
  const media = new Map<string, WsClient>();
  const app: DrivenApp = {
    meetingUuid, streamId, signaling, media, signalingResp, answer,
    async openMedia(path: string, mediaType = MEDIA_BIT[path]!) {
      const c = track(await WsClient.open(urls[path]!));
      c.send({ msg_type: 3, protocol_version: 1, meeting_uuid: meetingUuid, rtms_stream_id: streamId, signature, media_type: mediaType });
      const r = await c.next((m) => m?.msg_type === 4, 3000, `DATA_HAND_SHAKE_RESP on ${path}`);
      if (r.status_code !== 0) throw new Error(`data handshake on ${path} failed: ${JSON.stringify(r)}`);
      media.set(path, c);
      return c;
    },
    ready() {
      signaling.send({ msg_type: 7, rtms_stream_id: streamId });
    },
    closeAll() {
      for (const c of media.values()) c.close();
      signaling.close();
    },
  };
  for (const p of opts.paths ?? ['all']) await app.openMedia(p);
  if (opts.ready ?? true) app.ready();
  return app;
}

/** Polls `fn` until it returns something truthy and returns that; rejects after `timeoutMs` (at least 10 s). */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 3000, label = 'condition', stepMs = 10): Promise<NonNullable<T>> {
  // A wait is patience, not a timing assertion (tests that time something measure it themselves): on a loaded
  // CI machine give every wait at least 10 s. A condition that holds returns at once, so passing runs lose nothing.
  timeoutMs = Math.max(timeoutMs, 10_000);
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label} (last: ${JSON.stringify(last)})`);
    await Bun.sleep(stepMs);
  }
}
