// The reference app against a tiny fake server over real sockets: the exact messages it sends (spec §3, §4.1)
// and how it follows the stream's life (failover, drops, stop, seed dialect).
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ReferenceApp, type ReferenceAppOptions, startReferenceApp } from '../../src/client/reference-app.ts';
import {
  AUDIO_FRAME,
  CLIENT_ID,
  CLIENT_SECRET,
  EFFECTIVE_PARAMS,
  type FakeRtmsServer,
  type FakeServerOptions,
  SECRET_TOKEN,
  expectedSignature,
  postWebhook,
  startFakeRtmsServer,
  startedBody,
} from './fake-rtms-server.ts';

const UUID = 'abc/def+g==';
const STREAM = 'stream-1';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(appOptions: ReferenceAppOptions = {}, serverOptions: FakeServerOptions = {}) {
  const fake = await startFakeRtmsServer(serverOptions);
  cleanups.push(() => fake.stop());
  const app = await startReferenceApp({
    secretToken: SECRET_TOKEN,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    log: false,
    reconnectDelaysMs: [50, 50, 50],
    ...appOptions,
  });
  cleanups.push(() => app.stop());
  return { fake, app };
}

const sentOfType = (fake: FakeRtmsServer, t: number | string) => fake.received.filter((r) => r.msg.msg_type === t);

/** Ready = the fake server has received msg 7 (the app's own record of sending it can come first). */
async function ready(app: ReferenceApp, fake: FakeRtmsServer) {
  await app.waitFor((o) => o.kind === 'sent' && o.msg.msg_type === 7, 3000, { label: 'msg 7 sent' });
  await fake.waitFor((r) => r.msg.msg_type === 7);
}

describe('production handshake (spec §3)', () => {
  test('sends the exact msg 1, msg 5, msg 3, msg 7 and answers keep-alives with msg 13', async () => {
    const { fake, app } = await setup({ events: [2, 3, 4] });
    expect((await postWebhook(app.url, startedBody(fake.signalingUrl, STREAM, UUID))).status).toBe(200);
    await ready(app, fake);
    const signature = expectedSignature(UUID, STREAM);

    const [m1] = sentOfType(fake, 1);
    expect(m1!.socket).toBe('signaling');
    expect(m1!.msg).toEqual({ msg_type: 1, protocol_version: 1, sequence: 0, meeting_uuid: UUID, rtms_stream_id: STREAM, signature });

    const [m5] = sentOfType(fake, 5);
    expect(m5!.socket).toBe('signaling');
    expect(m5!.msg).toEqual({
      msg_type: 5,
      events: [
        { event_type: 2, subscribe: true },
        { event_type: 3, subscribe: true },
        { event_type: 4, subscribe: true },
      ],
    });

    const m3s = sentOfType(fake, 3);
    expect(m3s).toHaveLength(1);
    expect(m3s[0]!.socket).toBe('all');
    expect(m3s[0]!.msg).toEqual({
      msg_type: 3,
      protocol_version: 1,
      sequence: 0,
      meeting_uuid: UUID,
      rtms_stream_id: STREAM,
      signature,
      media_type: 32,
      payload_encryption: false,
    });

    const m7s = sentOfType(fake, 7);
    expect(m7s).toHaveLength(1);
    expect(m7s[0]!.socket).toBe('signaling');
    expect(m7s[0]!.msg).toEqual({ msg_type: 7, rtms_stream_id: STREAM });
    // msg 7 comes after the data handshake was answered, msg 5 after the signaling one.
    const s = app.streams.get(STREAM)!;
    const at = (socket: string, t: number) => s.messages.find((m) => m.socket === socket && m.msg.msg_type === t)!.at;
    expect(m7s[0]!.at).toBeGreaterThanOrEqual(at('all', 4));
    expect(m5!.at).toBeGreaterThanOrEqual(at('signaling', 2));

    // spec §4.1: the keep-alive is answered on the socket it came on, with the same timestamp.
    await fake.waitFor((r) => r.msg.msg_type === 13 && r.socket === 'all');
    await fake.waitFor((r) => r.msg.msg_type === 13 && r.socket === 'signaling');
    const keepAlive = s.messages.find((m) => m.msg.msg_type === 12)!.msg.timestamp;
    for (const r of sentOfType(fake, 13)) expect(r.msg).toEqual({ msg_type: 13, timestamp: keepAlive });

    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 17, 2000);
    expect(s.state).toBe('ready');
    expect(s.handshakes).toBe(1);
    expect(s.signalingResponse.media_server.server_urls.all).toBe(`ws://127.0.0.1:${fake.port}/media/all`);
    expect(s.dataResponses.all.status_code).toBe(0);
    expect(s.mediaParams).toEqual(EFFECTIVE_PARAMS);
    expect(s.counts['14']).toBe(2);
    expect(s.counts['12']).toBe(2);
    expect(s.messages.filter((m) => m.msg.msg_type === 14).every((m) => m.socket === 'all' && m.binary === false)).toBe(true);
  });

  test('split mode: one socket per requested type, params filtered per socket, one msg 7 after both msg 4', async () => {
    const mediaParams = { audio: { sample_rate: 3, channel: 2 }, transcript: { src_language: -1 } };
    const { fake, app } = await setup({ mediaMode: 'split', mediaTypes: 9, mediaParams });
    await postWebhook(app.url, startedBody(fake.signalingUrl, STREAM, UUID));
    await ready(app, fake);
    const m3 = Object.fromEntries(sentOfType(fake, 3).map((r) => [r.socket, r.msg]));
    expect(Object.keys(m3).sort()).toEqual(['audio', 'transcript']);
    expect(m3.audio.media_type).toBe(1);
    expect(m3.audio.media_params).toEqual({ audio: mediaParams.audio });
    expect(m3.transcript.media_type).toBe(8);
    expect(m3.transcript.media_params).toEqual({ transcript: mediaParams.transcript });
    expect(m3.audio.signature).toBe(expectedSignature(UUID, STREAM));
    const [m7, extra] = sentOfType(fake, 7);
    expect(extra).toBeUndefined();
    const lastData = Math.max(...app.streams.get(STREAM)!.messages.filter((m) => m.msg.msg_type === 4).map((m) => m.at));
    expect(m7!.at).toBeGreaterThanOrEqual(lastData);
    await app.waitFor((o) => o.kind === 'message' && o.socket === 'audio' && o.msg.msg_type === 14, 2000);
    await app.waitFor((o) => o.kind === 'message' && o.socket === 'transcript' && o.msg.msg_type === 17, 2000);
  });

  test('split mode skips media types whose URL the server did not offer', async () => {
    const { fake, app } = await setup({ mediaMode: 'split' }, { offer: ['all', 'audio', 'transcript'] });
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    expect(sentOfType(fake, 3).map((r) => r.socket).sort()).toEqual(['audio', 'transcript']);
  });

  test('all mode passes mediaParams through and sends the mediaTypes bitmask', async () => {
    const mediaParams = { audio: { codec: 1, send_rate: 100 }, video: { fps: 25, codec: 7 } };
    const { fake, app } = await setup({ mediaTypes: 3, mediaParams });
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    const [m3] = sentOfType(fake, 3);
    expect(m3!.msg.media_type).toBe(3);
    expect(m3!.msg.media_params).toEqual(mediaParams);
  });

  test.each([
    ['webinar.rtms_started', 'webinar_uuid'],
    ['session.rtms_started', 'session_id'],
    ['contact_center.voice_rtms_started', 'engagement_id'],
  ])('%s: handshakes carry %s and sign with it', async (event, key) => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl, 'st-9', 'inst/ance=', event));
    await ready(app, fake);
    const sig = expectedSignature('inst/ance=', 'st-9');
    for (const r of [...sentOfType(fake, 1), ...sentOfType(fake, 3)]) {
      expect(r.msg[key]).toBe('inst/ance=');
      expect(r.msg.meeting_uuid).toBeUndefined();
      expect(r.msg.signature).toBe(sig);
    }
    expect(app.streams.get('st-9')!.product).toBe(event.split('.')[0]!);
  });

  test('accepts JSON in binary frames (spec §1)', async () => {
    const { fake, app } = await setup({}, { binary: true });
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    const o = await app.waitFor((x) => x.kind === 'message' && x.msg.msg_type === 14, 3000);
    expect(o.kind === 'message' && o.binary).toBe(true);
    expect(o.kind === 'message' && o.msg.content.length).toBe(640);
  });

  test('a rejected signaling handshake leaves the stream failed, with the reason', async () => {
    const { fake, app } = await setup({ autoConnect: false }, { signalingStatus: 3 });
    const s = await app.connect(startedBody(fake.signalingUrl));
    expect(s.state).toBe('failed');
    expect(s.error).toContain('status 3');
    expect(sentOfType(fake, 3)).toHaveLength(0);
    expect(s.sockets.size).toBe(0);
  });

  test('a rejected data handshake fails the stream and sends no msg 7', async () => {
    const { fake, app } = await setup({ autoConnect: false }, { dataStatus: 21 });
    const s = await app.connect(startedBody(fake.signalingUrl).payload);
    expect(s.state).toBe('failed');
    expect(s.error).toContain('data handshake on all rejected: status 21');
    expect(sentOfType(fake, 7)).toHaveLength(0);
  });
});

describe('test controls', () => {
  test('answerKeepAlive: false and sendReady: false', async () => {
    const { fake, app } = await setup({ answerKeepAlive: false, sendReady: false, autoConnect: false });
    const s = await app.connect(startedBody(fake.signalingUrl));
    expect(s.state).toBe('ready');
    expect(sentOfType(fake, 7)).toHaveLength(0);
    // Drive the server's side by hand: a keep-alive must go unanswered.
    fake.send('signaling', { msg_type: 12, timestamp: 42 });
    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 12, 1000);
    await Bun.sleep(50);
    expect(sentOfType(fake, 13)).toHaveLength(0);
  });

  test('send, closeSocket and waitFor', async () => {
    const { fake, app } = await setup({ autoConnect: false });
    await app.connect(startedBody(fake.signalingUrl));
    app.send(STREAM, 'signaling', { msg_type: 19, rtms_stream_id: STREAM });
    app.send(STREAM, 'signaling', '{"msg_type":10,"rtms_session_id":"x"}');
    await fake.waitFor((r) => r.msg.msg_type === 10);
    expect(sentOfType(fake, 19)[0]!.msg).toEqual({ msg_type: 19, rtms_stream_id: STREAM });

    await app.closeSocket(STREAM, 'all', { code: 4000, reason: 'test' });
    const s = app.streams.get(STREAM)!;
    expect(s.closes).toContainEqual(expect.objectContaining({ socket: 'all', byClient: true }));
    await Bun.sleep(150);
    expect(fake.opened.all).toBe(1); // a close the app asked for is not a drop: no re-handshake
    expect(() => app.send(STREAM, 'all', {})).toThrow('not open');

    await expect(app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 99, 50, { label: 'msg 99' }))
      .rejects.toThrow(/waitFor \(msg 99\) timed out after 50 ms/);
  });

  test('stop() closes every socket and the webhook server', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    const url = app.url;
    await app.stop();
    expect(app.streams.get(STREAM)!.sockets.size).toBe(0);
    await Bun.sleep(20);
    expect(fake.sockets.size).toBe(0);
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

describe('output files', () => {
  test('writes L16 audio as WAV with the negotiated format, and transcript lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtms-client-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { fake, app } = await setup({ outDir: dir });
    await postWebhook(app.url, startedBody(fake.signalingUrl, 'st/1'));
    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 17, 3000);
    // The fake sends both audio frames before the transcript on the same socket.
    expect(app.streams.get('st/1')!.counts['14']).toBe(2);

    const wav = readFileSync(join(dir, 'st_1.wav'));
    const v = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.subarray(8, 16).toString()).toBe('WAVEfmt ');
    expect(v.getUint16(20, true)).toBe(1); // PCM
    expect(v.getUint16(22, true)).toBe(1); // mono
    expect(v.getUint32(24, true)).toBe(16000);
    expect(v.getUint16(34, true)).toBe(16);
    expect(v.getUint32(40, true)).toBe(1280);
    expect(v.getUint32(4, true)).toBe(36 + 1280);
    expect(wav.subarray(44, 44 + 640)).toEqual(Buffer.from(AUDIO_FRAME));

    const transcript = readFileSync(join(dir, 'st_1.transcript.txt'), 'utf8');
    expect(transcript).toMatch(/^\[0:00\.\d{3}-0:01\.\d{3}\] Alice: Hello there\.\n$/);
    expect(app.streams.get('st/1')!.files.sort()).toEqual([join(dir, 'st_1.transcript.txt'), join(dir, 'st_1.wav')]);
  });
});

describe('stream life', () => {
  test('rtms_stopped closes the sockets and stops the stream for good', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    const stopped = { event: 'meeting.rtms_stopped', event_ts: Date.now(), payload: { meeting_uuid: UUID, rtms_stream_id: STREAM, stop_reason: 6 } };
    expect((await postWebhook(app.url, stopped)).status).toBe(200);
    const s = app.streams.get(STREAM)!;
    expect(s.state).toBe('stopped');
    expect(s.stopReason).toBe(6);
    await Bun.sleep(150);
    expect(fake.sockets.size).toBe(0);
    expect(fake.opened.signaling).toBe(1);
    // A late duplicate rtms_started does not resurrect it.
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await Bun.sleep(50);
    expect(fake.opened.signaling).toBe(1);
  });

  test('STREAM_STATE_UPDATE TERMINATED then a server close is a stop, not a drop', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    fake.send('signaling', { msg_type: 8, state: 4, reason: 6, stop_reason: 6, timestamp: Date.now() });
    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 8 && o.msg.state === 4, 1000);
    fake.sockets.get('signaling')!.close(1000, 'bye');
    await app.waitFor((o) => o.kind === 'close' && o.socket === 'signaling', 1000);
    await Bun.sleep(150);
    expect(app.streams.get(STREAM)!.state).toBe('stopped');
    expect(app.streams.get(STREAM)!.stopReason).toBe(6);
    expect(fake.opened.signaling).toBe(1);
  });

  test('a second rtms_started for a live stream is a failover: both handshakes redone on the new server', async () => {
    const { fake, app } = await setup();
    const other = await startFakeRtmsServer();
    cleanups.push(() => other.stop());
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    await postWebhook(app.url, startedBody(other.signalingUrl));
    await other.waitFor((r) => r.msg.msg_type === 7);
    const s = app.streams.get(STREAM)!;
    expect(s.handshakes).toBe(2);
    expect(s.state).toBe('ready');
    expect(sentOfType(other, 1)[0]!.msg.signature).toBe(expectedSignature(UUID, STREAM));
    await Bun.sleep(50);
    expect(fake.sockets.size).toBe(0); // the old server's sockets were closed by the app
    expect(s.closes.filter((c) => c.byClient).map((c) => c.socket).sort()).toEqual(['all', 'signaling']);
  });

  test('a signaling drop is followed by new signaling and data handshakes', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    fake.sockets.get('signaling')!.close(1001, 'going away');
    await fake.waitFor((r) => r.msg.msg_type === 7 && sentOfType(fake, 7).length === 2, 3000);
    const s = app.streams.get(STREAM)!;
    expect(fake.opened).toEqual({ signaling: 2, all: 2 });
    expect(s.state).toBe('ready');
    expect(s.handshakes).toBe(2);
    expect(s.reconnects).toBe(1);
  });

  test('when the server is gone, reconnection gives up after the configured attempts', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    await fake.stop();
    const s = app.streams.get(STREAM)!;
    for (let i = 0; i < 40 && s.state !== 'failed'; i++) await Bun.sleep(25);
    expect(s.state).toBe('failed');
    expect(s.error).toBe('gave up reconnecting after 3 attempts');
    expect(s.reconnects).toBe(3);
    expect(s.sockets.size).toBe(0);
  });

  test('reconnect: false leaves a dropped stream interrupted', async () => {
    const { fake, app } = await setup({ reconnect: false });
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    fake.sockets.get('signaling')!.close(1001, 'going away');
    await app.waitFor((o) => o.kind === 'close' && o.socket === 'signaling', 1000);
    await Bun.sleep(150);
    expect(app.streams.get(STREAM)!.state).toBe('interrupted');
    expect(fake.opened.signaling).toBe(1);
  });

  test('a media drop is followed by a new data handshake and msg 7 (spec §4.1)', async () => {
    const { fake, app } = await setup();
    await postWebhook(app.url, startedBody(fake.signalingUrl));
    await ready(app, fake);
    fake.sockets.get('all')!.close(1001, 'media lost');
    await fake.waitFor((r) => r.msg.msg_type === 3 && sentOfType(fake, 3).length === 2, 3000);
    await fake.waitFor((r) => r.msg.msg_type === 7 && sentOfType(fake, 7).length === 2, 3000);
    expect(fake.opened).toEqual({ signaling: 1, all: 2 });
  });
});

describe('seed dialect (spec §10)', () => {
  test('string msg_types on the server root, STATUS_OK, media_urls, no msg 7', async () => {
    const { fake, app } = await setup({ dialect: 'seed' }, { seed: true });
    await postWebhook(app.url, startedBody(fake.signalingUrl, STREAM, UUID));
    await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 'MEDIA_DATA_AUDIO', 3000);
    expect(fake.paths).toEqual(['/', '/media/all']);
    const signature = expectedSignature(UUID, STREAM);
    const [m1] = fake.received.filter((r) => r.msg.msg_type === 'SIGNALING_HAND_SHAKE_REQ');
    expect(m1!.msg).toEqual({ msg_type: 'SIGNALING_HAND_SHAKE_REQ', protocol_version: 1, sequence: 0, meeting_uuid: UUID, rtms_stream_id: STREAM, signature });
    const [m3] = fake.received.filter((r) => r.msg.msg_type === 'DATA_HAND_SHAKE_REQ');
    expect(m3!.socket).toBe('all');
    expect(m3!.msg.media_type).toBeUndefined();
    expect(m3!.msg.signature).toBe(signature);
    await fake.waitFor((r) => r.msg.msg_type === 'KEEP_ALIVE_RESP');
    expect(fake.received.some((r) => r.msg.msg_type === 7 || r.msg.msg_type === 'CLIENT_READY_ACK')).toBe(false);
    const s = app.streams.get(STREAM)!;
    expect(s.state).toBe('ready');
    expect(s.counts.MEDIA_DATA_AUDIO).toBe(2);
  });
});
