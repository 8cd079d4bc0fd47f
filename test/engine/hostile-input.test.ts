// Hostile and broken input on the signaling and media sockets: malformed and non-object JSON, JSON in binary
// frames (accepted, spec §1), wrong types, unknown msg_types, frames above maxFrameBytes (close 1009, README
// limits), requests out of order, idle sockets, seeded random garbage. Each gets its status code (spec §5) or
// close code, the process stays up, and a second meeting streaming at the same time is undisturbed: its audio
// timestamps keep stepping by send_rate with no gap (spec §8).
import { afterEach, describe, expect, test } from 'bun:test';
import type { CreateMockOptions } from '../../src/app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { driveApp, until, type DrivenApp } from '../helpers/driven-app.ts';
import { Sockets, dataReq, mediaUrl, prng, signalingReq, signalingUrl, withTimeout, type Created } from '../helpers/handshake-kit.ts';
import { WsClient } from '../helpers/ws-client.ts';

let mock: TestMock | null = null;
const apps: DrivenApp[] = [];
const sockets = new Sockets();
afterEach(async () => {
  for (const a of apps.splice(0)) a.closeAll();
  sockets.closeAll();
  await mock?.stop({ graceful: false });
  mock = null;
});

const meetingPath = (uuid: string) => `/api/meetings/${encodeURIComponent(uuid)}`;
const audioTs = (ws: WsClient) => ws.received.filter((r) => r.msg?.msg_type === 14).map((r) => r.msg.content.timestamp as number);

/** Short keep-alives (answered by the driven apps) so they run all through each test. */
async function start(over: CreateMockOptions = {}): Promise<TestMock> {
  mock = await startMock({ keepAliveMs: 150, ...over });
  return mock;
}

async function connect(c: Created, paths = ['audio']): Promise<DrivenApp> {
  const app = await driveApp(c, { paths });
  apps.push(app);
  await app.media.get(paths[0]!)!.next((m) => m?.msg_type === 14, 3000, 'first audio');
  return app;
}

/**
 * A second meeting streaming audio while a test attacks another one. `verify()` waits for more audio and checks
 * that nothing happened to it: every timestamp on the 20 ms grid, consecutive (no gap, no repeat), sockets open,
 * only the expected signaling messages, no interruption in the API.
 */
async function bystander(m: TestMock) {
  const c: Created = await m.startMeeting(null);
  const origin = (await m.api('GET', meetingPath(c.meeting_uuid))).body.created_at as number;
  const app = await connect(c);
  const audio = app.media.get('audio')!;
  return {
    c,
    async verify(): Promise<void> {
      const n = audioTs(audio).length;
      await until(() => audioTs(audio).length >= n + 10, 3000, 'bystander audio goes on');
      const ts = audioTs(audio);
      for (const t of ts) expect((t - origin) % 20).toBe(0);
      for (let i = 1; i < ts.length; i++) {
        if (ts[i]! - ts[i - 1]! !== 20) throw new Error(`bystander audio gap: ${ts[i - 1]} → ${ts[i]} (message ${i} of ${ts.length})`);
      }
      expect(ts.length).toBe((ts.at(-1)! - ts[0]!) / 20 + 1);
      expect(audio.isClosed || app.signaling.isClosed).toBe(false);
      const sigTypes = new Set(app.signaling.received.map((r) => r.msg?.msg_type));
      expect([...sigTypes].every((t) => [2, 6, 8, 9, 12].includes(t))).toBe(true);
      expect(app.signaling.received.filter((r) => r.msg?.msg_type === 8).map((r) => r.msg.state)).toEqual([1]);
      const st = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
      expect(st).toMatchObject({ stream_state: 1, stop_reason: null, history: { interruptions: 0 } });
      expect(st.signaling.counters.errors).toBe(0);
      // The process is up and answering.
      expect((await m.api('GET', '/health')).status).toBe(200);
    },
  };
}

/** Media (with `content`), events and keep-alives: what flows anyway, never a reply. */
const unsolicited = (x: any) => x?.msg_type === 12 || x?.msg_type === 6 || (typeof x?.content === 'object' && x.content !== null);

/** Sends `frame` and returns the next message that is not a keep-alive, media or event. */
async function reply(ws: WsClient, frame: unknown): Promise<any> {
  const mark = ws.received.length;
  ws.send(frame);
  const r = await until(() => ws.received.slice(mark).find((x) => !unsolicited(x.msg)), 3000, `reply to ${String(typeof frame === 'string' ? frame : JSON.stringify(frame)).slice(0, 60)}`);
  return r.msg;
}

const enc = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));

describe('garbage after the handshake (README Decision: answered, socket kept)', () => {
  test('spec §1/§5 on signaling: bad JSON → 4, unknown or mistyped msg_type → 1, binary JSON accepted; the stream goes on', async () => {
    const m = await start();
    const by = await bystander(m);
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const sig = app.signaling;
    const cases: [unknown, unknown][] = [
      ['{"msg_type":19,"rtms_str', { status_code: 4, reason: expect.stringMatching(/JSON/) }],
      ['not json at all', { status_code: 4, reason: expect.stringMatching(/JSON/) }],
      ['', { status_code: 4, reason: expect.any(String) }],
      ['[19]', { status_code: 4, reason: expect.stringMatching(/object/) }],
      ['"STREAM_STATE_REQ"', { status_code: 4, reason: expect.stringMatching(/object/) }],
      ['null', { status_code: 4, reason: expect.stringMatching(/object/) }],
      ['{}', { status_code: 4, reason: expect.stringMatching(/msg_type/) }],
      [{ msg_type: 99 }, { msg_type: 99, status_code: 1, reason: expect.stringMatching(/99/) }],
      [{ msg_type: -5 }, { msg_type: -5, status_code: 1, reason: expect.any(String) }],
      [{ msg_type: 1.5 }, { status_code: 1, reason: expect.stringMatching(/integer/) }],
      [{ msg_type: '19' }, { status_code: 1, reason: expect.any(String) }],
      [{ msg_type: null }, { status_code: 1, reason: expect.any(String) }],
      [{ msg_type: [19] }, { status_code: 1, reason: expect.any(String) }],
      // Types the mock sends, or that belong on a media socket, are not accepted from the app here.
      [{ msg_type: 14, content: {} }, { msg_type: 14, status_code: 1, reason: expect.any(String) }],
      [dataReq(c), { msg_type: 3, status_code: 1, reason: expect.any(String) }],
      // Binary frames: invalid UTF-8 → 4; valid JSON → processed like text (spec §1).
      [new Uint8Array([0xff, 0xfe, 0xfd, 0x00]), { status_code: 4, reason: expect.stringMatching(/UTF-8/) }],
      [enc('{"msg_type":'), { status_code: 4, reason: expect.stringMatching(/JSON/) }],
      [enc({ msg_type: 19, rtms_stream_id: c.rtms_stream_id }), { msg_type: 20, rtms_stream_id: c.rtms_stream_id, state: 1, timestamp: expect.any(Number) }],
    ];
    for (const [frame, expected] of cases) {
      const r = await reply(sig, frame);
      expect({ frame: String(frame instanceof Uint8Array ? `bytes ${frame.length}` : JSON.stringify(frame)), r }).toEqual({ frame: expect.any(String), r: expected });
    }
    expect(sig.isClosed).toBe(false);
    // Still the same live stream: ACTIVE, keep-alives answered, audio flowing; the errors were counted.
    const st = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st).toMatchObject({ stream_state: 1, history: { interruptions: 0 }, signaling: { closed: false } });
    expect(st.signaling.counters.errors).toBe(15); // the frames decodeFrame refused (not the well-formed wrong types)
    const n = audioTs(app.media.get('audio')!).length;
    await until(() => audioTs(app.media.get('audio')!).length > n + 5, 3000, 'audio after the garbage');
    await by.verify();
  });

  test('spec §1/§5 on a media socket: same answers, the socket keeps its media with no gap; a second msg 3 → msg 4 with 16', async () => {
    const m = await start();
    const by = await bystander(m);
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const audio = app.media.get('audio')!;
    const cases: [unknown, unknown][] = [
      ['{"msg_type":3,', { status_code: 4, reason: expect.stringMatching(/JSON/) }],
      ['[]', { status_code: 4, reason: expect.stringMatching(/object/) }],
      [{ msg_type: 42 }, { msg_type: 42, status_code: 1, reason: expect.any(String) }],
      [{ msg_type: true }, { status_code: 1, reason: expect.any(String) }],
      [{ msg_type: 19, rtms_stream_id: c.rtms_stream_id }, { msg_type: 19, status_code: 1, reason: expect.stringMatching(/media socket/) }],
      [new Uint8Array(64).fill(0x80), { status_code: 4, reason: expect.stringMatching(/UTF-8/) }],
      // A repeated data handshake on a socket that is already in: its own response type (spec §3.3), socket kept.
      [dataReq(c, { media_type: 1 }), { msg_type: 4, protocol_version: 1, sequence: 0, status_code: 16, reason: expect.any(String), payload_encrypted: false }],
    ];
    for (const [frame, expected] of cases) expect(await reply(audio, frame)).toEqual(expected);
    // JSON in a binary frame is a valid keep-alive answer on media too (spec §1, §4.1).
    audio.send(enc({ msg_type: 13, timestamp: 1 }));
    const n = audioTs(audio).length;
    await until(() => audioTs(audio).length >= n + 10, 3000, 'audio after the garbage');
    const ts = audioTs(audio);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(20);
    expect(audio.isClosed).toBe(false);
    const st = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st).toMatchObject({ stream_state: 1, history: { dataHandshakes: 1, interruptions: 0 } });
    await by.verify();
  });

  test('spec §1/§4.1 keep-alives answered only with JSON in binary frames keep both sockets open', async () => {
    const m = await start({ keepAliveMs: 60 });
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const socks = [app.signaling, app.media.get('audio')!];
    for (const ws of socks) {
      app.answer.set(ws, false); // the text answers of driveApp stop
      ws.ws.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') return;
        const k = JSON.parse(e.data);
        if (k.msg_type === 12 && ws.ws.readyState === WebSocket.OPEN) ws.send(enc({ msg_type: 13, timestamp: k.timestamp }));
      });
    }
    const before = socks.map((ws) => ws.received.filter((r) => r.msg?.msg_type === 12).length);
    await until(() => socks.every((ws, i) => ws.received.filter((r) => r.msg?.msg_type === 12).length >= before[i]! + 6), 3000, 'six more keep-alives');
    for (const ws of socks) expect(ws.isClosed).toBe(false);
    const st = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st.signaling.unanswered_keep_alives).toBeLessThanOrEqual(1);
    expect(st.media[0].unanswered_keep_alives).toBeLessThanOrEqual(1);
  });
});

describe('frames above maxFrameBytes (README limits: close 1009)', () => {
  test('at the limit a frame is processed; one byte more closes a fresh signaling socket with 1009 (default 64 KiB)', async () => {
    const m = await start();
    const by = await bystander(m);
    const LIMIT = 64 * 1024;
    const padded = (size: number, base: Record<string, unknown>) => {
      const s = JSON.stringify({ ...base, pad: '' });
      return JSON.stringify({ ...base, pad: 'x'.repeat(size - s.length) });
    };
    // Exactly 64 KiB: parsed (a request before the handshake → msg 2 with 1, then 1000).
    const atLimit = sockets.add(await WsClient.open(signalingUrl(m)));
    const text = padded(LIMIT, { msg_type: 19, rtms_stream_id: 'x' });
    expect(text.length).toBe(LIMIT);
    atLimit.send(text);
    expect(await atLimit.next()).toMatchObject({ msg_type: 2, status_code: 1 });
    expect((await withTimeout(atLimit.closed, 3000, 'close')).code).toBe(1000);
    // One byte more: the transport closes it with 1009 before anything is parsed.
    const over = sockets.add(await WsClient.open(signalingUrl(m)));
    over.send(padded(LIMIT + 1, { msg_type: 19, rtms_stream_id: 'x' }));
    expect((await withTimeout(over.closed, 3000, 'close')).code).toBe(1009);
    expect(over.received).toEqual([]);
    await by.verify();
  });

  test('a too-big frame on live sockets: media → 1009 and event 7 + state 2/14; signaling → 1009 and the stream INTERRUPTED', async () => {
    const m = await start({ maxFrameBytes: 2048 });
    const by = await bystander(m);
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const sig = app.signaling;
    const audio = app.media.get('audio')!;
    // Text and binary frames count alike.
    audio.send(new Uint8Array(4096).fill(0x20));
    expect((await withTimeout(audio.closed, 3000, 'media close')).code).toBe(1009);
    expect(await sig.next((x) => x?.msg_type === 6 && x.event.event_type === 7, 3000, 'event 7')).toEqual({ msg_type: 6, event: { event_type: 7, timestamp: expect.any(Number) } });
    expect(await sig.next((x) => x?.msg_type === 8, 3000, 'state 2')).toMatchObject({ state: 2, reason: 14 });

    sig.send(JSON.stringify({ msg_type: 19, rtms_stream_id: c.rtms_stream_id, pad: 'x'.repeat(3000) }));
    expect((await withTimeout(sig.closed, 3000, 'signaling close')).code).toBe(1009);
    // spec §4.1: signaling lost → INTERRUPTED with the 60 s window; nothing stopped.
    const st = await until(async () => {
      const s = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
      return s.stream_state === 2 && s.reconnection_window === 'signaling' ? s : null;
    }, 3000, 'INTERRUPTED');
    expect(st.stop_reason).toBeNull();
    await by.verify();
  });
});

describe('requests out of order and idle sockets', () => {
  test('spec §3.4 msg 7 before any data handshake: no reply, nothing starts; the data handshake then starts media without another msg 7', async () => {
    const m = await start();
    const c: Created = await m.startMeeting(null);
    const app = await driveApp(c, { paths: [], ready: false });
    apps.push(app);
    const sig = app.signaling;
    sig.send({ msg_type: 7, rtms_stream_id: c.rtms_stream_id });
    const st = await reply(sig, { msg_type: 19, rtms_stream_id: c.rtms_stream_id });
    expect(st).toMatchObject({ msg_type: 20, state: 0 }); // INACTIVE: no media connection yet
    expect(sig.received.map((r) => r.msg.msg_type).filter((t) => t !== 12)).toEqual([2, 20]);
    const audio = await app.openMedia('audio');
    await audio.next((x) => x?.msg_type === 14, 3000, 'audio');
    const order = sig.received.map((r) => r.msg).filter((x) => x.msg_type !== 12).map((x) => (x.msg_type === 6 ? `6/${x.event.event_type}` : `${x.msg_type}`));
    expect(order).toEqual(['2', '20', '6/1', '8', '9']);
  });

  test('spec §3.1/§5 a second msg 1 on the live signaling socket → msg 2 with 8, the socket and the stream stay', async () => {
    const m = await start();
    const by = await bystander(m);
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const r = await reply(app.signaling, signalingReq(c));
    expect(r).toEqual({ msg_type: 2, protocol_version: 1, sequence: 0, status_code: 8, reason: expect.stringContaining('duplicate signal request') });
    expect(r.media_server).toBeUndefined();
    expect(await reply(app.signaling, { msg_type: 19, rtms_stream_id: c.rtms_stream_id })).toMatchObject({ msg_type: 20, state: 1 });
    expect(app.signaling.isClosed).toBe(false);
    await by.verify();
  });

  test('spec §10 a seed-named handshake on a live production socket does not switch its dialect: keep-alives stay numeric and answered', async () => {
    const m = await start({ keepAliveMs: 60 });
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const r = await reply(app.signaling, { ...signalingReq(c), msg_type: 'SIGNALING_HAND_SHAKE_REQ' });
    expect(r).toMatchObject({ msg_type: 2, status_code: 8 });
    const mark = app.signaling.received.length;
    // Well past three keep-alive intervals: still numeric (so driveApp answers them) and the socket is open.
    await until(() => app.signaling.received.slice(mark).filter((x) => x.msg?.msg_type === 12).length >= 5, 3000, 'five more keep-alives');
    expect(app.signaling.received.slice(mark).some((x) => typeof x.msg?.msg_type === 'string')).toBe(false);
    expect(await reply(app.signaling, { msg_type: 19, rtms_stream_id: c.rtms_stream_id })).toMatchObject({ msg_type: 20, state: 1 });
    expect(app.signaling.isClosed).toBe(false);
  });

  test('spec §3/§5 media socket before its data handshake: msg 1, msg 7, msg 19 → msg 4 with 1, closed 1000; a keep-alive answer is ignored', async () => {
    const m = await start();
    const c: Created = await m.startMeeting(null);
    const frames: unknown[][] = [
      [signalingReq(c)],
      [{ msg_type: 7, rtms_stream_id: c.rtms_stream_id }],
      // KEEP_ALIVE_RESP needs no reply, so only the request after it is refused.
      [{ msg_type: 13, timestamp: 1 }, { msg_type: 19, rtms_stream_id: c.rtms_stream_id }],
    ];
    for (const seq of frames) {
      const ws = sockets.add(await WsClient.open(mediaUrl(m, 'audio')));
      for (const f of seq) ws.send(f);
      expect(await ws.next()).toEqual({ msg_type: 4, protocol_version: 1, sequence: 0, status_code: 1, reason: expect.stringMatching(/data handshake/), payload_encrypted: false });
      expect((await withTimeout(ws.closed, 3000, 'close')).code).toBe(1000);
      expect(ws.received).toHaveLength(1);
    }
  });

  test('README limits: a socket that sends no handshake within three keep-alive intervals is closed with 1008 (signaling and media)', async () => {
    const m = await start({ keepAliveMs: 50 });
    const by = await bystander(m);
    const sig = sockets.add(await WsClient.open(signalingUrl(m)));
    const media = sockets.add(await WsClient.open(mediaUrl(m, 'all')));
    const seed = sockets.add(await WsClient.open(signalingUrl(m, '/')));
    const closes = await withTimeout(Promise.all([sig.closed, media.closed, seed.closed]), 3000, 'idle closes');
    expect(closes.map((x) => x.code)).toEqual([1008, 1008, 1008]);
    for (const ws of [sig, media, seed]) expect(ws.received).toEqual([]);
    await until(async () => (await m.api('GET', '/api/stats')).body.connections === 2, 2000, 'only the bystander left');
    await by.verify();
  });
});

describe('seeded random garbage (spec §5, README Decision)', () => {
  test('400 random frames on live signaling and media sockets: every reply well-formed, no 45 INTERNAL_EXCEPTION, nothing closed or stopped', async () => {
    const m = await start();
    const by = await bystander(m);
    const c: Created = await m.startMeeting(null);
    const app = await connect(c);
    const sig = app.signaling;
    const audio = app.media.get('audio')!;
    const rnd = prng(20240917);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const value = (depth = 0): unknown => {
      switch (Math.floor(rnd() * 9)) {
        case 0: return Math.floor(rnd() * 2 ** 31) - 2 ** 30;
        case 1: return rnd() * 1e6;
        case 2: return 'ab\u0000\ud83d\ude00"\\'.slice(0, Math.floor(rnd() * 8));
        case 3: return rnd() < 0.5;
        case 4: return null;
        case 5: return depth < 3 ? Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1)) : [];
        case 6: return depth < 3 ? { event_type: value(depth + 1), subscribe: value(depth + 1), user_id: value(depth + 1) } : {};
        case 7: return 1e308;
        default: return 'x'.repeat(Math.floor(rnd() * 300));
      }
    };
    // Never this stream's real ids: a well-formed STREAM_CLOSE_REQ would (rightly) stop it.
    const types: readonly unknown[] = [1, 3, 5, 7, 10, 13, 19, 21, 28, 0, 2, 12, 14, 30, 99, -1, 1.5, 'SIGNALING_HAND_SHAKE_REQ',
      'KEEP_ALIVE_RESP', 'STREAM_STATE_REQ', 'EVENT_SUBSCRIPTION', 'BOGUS', null, true, {}, []];
    const fields = ['rtms_stream_id', 'rtms_session_id', 'events', 'user_id', 'subscribe', 'meeting_uuid', 'signature', 'media_type', 'media_params', 'timestamp'];
    const frame = (): string | Uint8Array => {
      const r = rnd();
      if (r < 0.15) return Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
      if (r < 0.3) return JSON.stringify(value()).slice(0, Math.floor(rnd() * 80));
      const o: Record<string, unknown> = { msg_type: pick(types) };
      for (let i = Math.floor(rnd() * 5); i > 0; i--) o[pick(fields)] = value();
      const text = JSON.stringify(o);
      return rnd() < 0.2 ? new TextEncoder().encode(text) : text;
    };
    for (let i = 0; i < 200; i++) { sig.send(frame()); audio.send(frame()); }
    // Drain: both sockets answer a marker request after the garbage, so every reply to the garbage has arrived.
    sig.send({ msg_type: 19, rtms_stream_id: c.rtms_stream_id });
    audio.send({ msg_type: 42, marker: true });
    expect(await sig.next((x) => x?.msg_type === 20 && x.rtms_stream_id === c.rtms_stream_id, 3000, 'marker reply')).toMatchObject({ state: 1 });
    await audio.next((x) => x?.msg_type === 42, 3000, 'marker reply');

    for (const ws of [sig, audio]) {
      const replies = ws.received.map((r) => r.msg).filter((x) => typeof x === 'object' && x !== null && 'status_code' in x);
      expect(replies.length).toBeGreaterThan(50);
      for (const x of replies) {
        expect(Number.isInteger(x.status_code)).toBe(true);
        expect(x.status_code).not.toBe(45); // an exception inside a handler
        if (x.status_code !== 0) expect(typeof x.reason).toBe('string');
      }
      // Still one dialect on this production socket (spec §10: answered in the dialect it used).
      expect(ws.received.every((r) => typeof r.msg?.msg_type !== 'string')).toBe(true);
    }
    expect(sig.isClosed || audio.isClosed).toBe(false);
    const st = (await m.api('GET', meetingPath(c.meeting_uuid))).body.streams[0];
    expect(st).toMatchObject({ stream_state: 1, stop_reason: null, history: { interruptions: 0 } });
    expect((await m.api('GET', '/api/stats')).body.scheduler.errors).toBe(0);
    await by.verify();
  });
});
