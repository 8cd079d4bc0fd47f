// Signaling (spec §3.1) and data (spec §3.3) handshakes over real sockets: exact success shapes, every failure
// status code of spec §5 with its reason and the 1000 close, media parameter defaults and coercions (spec §8).
import { afterEach, describe, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import { WsClient, sign, CLIENT_ID } from '../helpers/ws-client.ts';
import {
  Sockets, dataReq, expectRefused, expectRefusedOn, mediaUrl, openMedia, openSignaling, signalingReq, signalingUrl,
  type Created,
} from '../helpers/handshake-kit.ts';
import { createHmac } from 'node:crypto';

let mock: TestMock | null = null;
const sockets = new Sockets();
afterEach(async () => {
  sockets.closeAll();
  await mock?.stop({ graceful: false });
  mock = null;
});

async function setup(over: Parameters<typeof startMock>[0] = {}): Promise<{ m: TestMock; c: Created }> {
  mock = await startMock(over);
  const c = await mock.startMeeting(null);
  return { m: mock, c };
}

/** spec §8 defaults, as the effective parameters of msg 4. */
const DEFAULTS = {
  audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
  video: { content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 },
  deskshare: { content_type: 3, codec: 5, resolution: 3, fps: 1 },
  transcript: { content_type: 5, src_language: 9, enable_lid: true },
  chat: { content_type: 5 },
};

describe('signaling handshake (spec §3.1)', () => {
  test('spec §3.1 success: msg 2 with status_code 0, reason "" and all six media URLs on the real media port', async () => {
    const { m, c } = await setup();
    const { ws, resp } = await openSignaling(m, c);
    sockets.add(ws);
    const base = `ws://127.0.0.1:${m.mediaPort}`;
    expect(resp).toEqual({
      msg_type: 2, protocol_version: 1, sequence: 0, status_code: 0, reason: '',
      media_server: { server_urls: {
        all: `${base}/all`, audio: `${base}/audio`, video: `${base}/video`,
        deskshare: `${base}/deskshare`, transcript: `${base}/transcript`, chat: `${base}/chat`,
      } },
    });
    // The API hands out the same URLs and the signaling URL the socket used.
    expect(c.media_server_urls).toEqual(resp.media_server.server_urls);
    expect(c.server_urls).toBe(signalingUrl(m));
    expect(m.port).not.toBe(m.mediaPort);
  });

  test('spec §3.1 protocol_version and sequence are optional (newer clients omit both); buffer_data accepted', async () => {
    const { m, c } = await setup();
    const { ws, resp } = await openSignaling(m, c, { protocol_version: undefined, sequence: undefined, buffer_data: true });
    sockets.add(ws);
    expect(resp.status_code).toBe(0);
  });

  test('spec §3.1/§5 malformed JSON → 4, socket closed 1000', async () => {
    const { m } = await setup();
    await expectRefused(signalingUrl(m), '{"msg_type":1,"meeting_uuid":', 2, 4, /JSON/);
  });

  test.each([
    ['an array', '[1,2,3]'],
    ['a number', '42'],
    ['a string', '"SIGNALING_HAND_SHAKE_REQ"'],
    ['null', 'null'],
  ])('spec §5 JSON that is not an object (%s) → 4, closed 1000', async (_label, text) => {
    const { m } = await setup();
    await expectRefused(signalingUrl(m), text, 2, 4, /object/);
  });

  test.each([
    ['rtms_stream_id', { rtms_stream_id: undefined }, /rtms_stream_id/],
    ['signature', { signature: undefined }, /signature/],
    ['an empty rtms_stream_id', { rtms_stream_id: '' }, /rtms_stream_id/],
    ['an empty signature', { signature: '' }, /signature/],
    ['a numeric rtms_stream_id', { rtms_stream_id: 12345 }, /rtms_stream_id/],
    ['a numeric meeting_uuid', { meeting_uuid: 12345 }, /meeting_uuid/],
  ])('spec §5 missing or wrong %s → 4 INVALID_PAYLOAD, closed 1000', async (_label, over, reason) => {
    const { m, c } = await setup();
    await expectRefused(signalingUrl(m), signalingReq(c, over), 2, 4, reason);
  });

  test('spec §3.1/§5 missing instance id (none of the four keys) → 4 naming the keys', async () => {
    const { m, c } = await setup();
    const r = await expectRefused(signalingUrl(m), signalingReq(c, { meeting_uuid: undefined }), 2, 4, /meeting_uuid/);
    expect(r.reason).toMatch(/webinar_uuid|engagement_id|session_id/);
  });

  test('spec §5 unknown stream → 2 INVALID_RTMS_STREAM_ID', async () => {
    const { m, c } = await setup();
    const ghost = { meeting_uuid: c.meeting_uuid, rtms_stream_id: 'deadbeefdeadbeefdeadbeefdeadbeef' };
    await expectRefused(signalingUrl(m), signalingReq(ghost), 2, 2, /rtms_stream_id/);
  });

  test('spec §5 instance id not matching the stream → 2 (even when correctly signed for that pair)', async () => {
    const { m, c } = await setup();
    const other = await m.startMeeting(null);
    const crossed = { meeting_uuid: other.meeting_uuid, rtms_stream_id: c.rtms_stream_id };
    await expectRefused(signalingUrl(m), signalingReq(crossed), 2, 2);
    // Both real streams are still untouched and accept their own handshakes.
    sockets.add((await openSignaling(m, c)).ws);
    sockets.add((await openSignaling(m, other)).ws);
  });

  test('spec §3.2/§5 bad signature → 3 INVALID_SIGNATURE', async () => {
    const { m, c } = await setup();
    await expectRefused(signalingUrl(m), signalingReq(c, { signature: 'ab'.repeat(32) }), 2, 3, /signature/);
  });

  test('spec §3.2 signature computed for another stream → 3', async () => {
    const { m, c } = await setup();
    const other = await m.startMeeting(null);
    await expectRefused(signalingUrl(m), signalingReq(c, { signature: sign(c.meeting_uuid, other.rtms_stream_id) }), 2, 3);
    await expectRefused(signalingUrl(m), signalingReq(c, { signature: sign(other.meeting_uuid, other.rtms_stream_id) }), 2, 3);
  });

  test('spec §3.2 Decision: the comma-less (seed README) form and a wrong client secret are refused with 3', async () => {
    const { m, c } = await setup();
    const commaLess = createHmac('sha256', 'YZnKVUufg7N18Oej6gHHqNWc7CG5jQ6N').update(`${CLIENT_ID}${c.meeting_uuid}${c.rtms_stream_id}`).digest('hex');
    await expectRefused(signalingUrl(m), signalingReq(c, { signature: commaLess }), 2, 3);
    await expectRefused(signalingUrl(m), signalingReq(c, { signature: sign(c.meeting_uuid, c.rtms_stream_id, CLIENT_ID, 'not-the-secret') }), 2, 3);
  });

  test('spec §3.1 duplicate signaling while one is live → 8 "duplicate signal request"; the first keeps working', async () => {
    const { m, c } = await setup();
    const first = sockets.add((await openSignaling(m, c)).ws);
    const r = await expectRefused(signalingUrl(m), signalingReq(c), 2, 8);
    expect(r.reason).toContain('duplicate signal request');
    // The first connection is still open and answers requests (spec §4.4).
    expect(first.isClosed).toBe(false);
    first.send({ msg_type: 19, rtms_stream_id: c.rtms_stream_id });
    const st = await first.next((x) => x.msg_type === 20);
    expect(st).toEqual({ msg_type: 20, rtms_stream_id: c.rtms_stream_id, state: 0, timestamp: expect.any(Number) });
    // And it can still complete the flow: data handshake + ready → ACTIVE.
    sockets.add((await openMedia(m, c, 'audio', { media_type: 1 })).ws);
    first.send({ msg_type: 7, rtms_stream_id: c.rtms_stream_id });
    expect(await first.next((x) => x.msg_type === 8)).toMatchObject({ state: 1 });
  });

  test('spec §3.1 after the first signaling socket closes, a new handshake is accepted (no longer a duplicate)', async () => {
    const { m, c } = await setup();
    const first = (await openSignaling(m, c)).ws;
    first.close();
    await first.closed;
    // The server notices the close asynchronously; retry briefly.
    const deadline = Date.now() + 2000;
    for (;;) {
      const ws = sockets.add(await WsClient.open(signalingUrl(m)));
      ws.send(signalingReq(c));
      const r = await ws.next((x) => x.msg_type === 2);
      if (r.status_code === 0) break;
      expect(r.status_code).toBe(8);
      if (Date.now() > deadline) throw new Error('second signaling never accepted');
      await Bun.sleep(20);
    }
  });

  test.each([
    ['99', 99],
    ['0', 0],
    ['-1', -1],
    ['30 (one past the table)', 30],
  ])('spec §5 unknown msg_type number %s → 1 INVALID_MESSAGE_TYPE, closed 1000', async (_l, t) => {
    const { m, c } = await setup();
    await expectRefused(signalingUrl(m), signalingReq(c, { msg_type: t }), 2, 1, /msg_type/);
  });

  test.each([
    ['a boolean', true],
    ['a float', 1.5],
    ['a numeric string', '1'],
    ['an unknown name', 'HELLO'],
    ['an object', { n: 1 }],
    ['null', null],
  ])('spec §5 msg_type of the wrong type (%s) → 1, closed 1000', async (_l, t) => {
    const { m, c } = await setup();
    await expectRefused(signalingUrl(m), signalingReq(c, { msg_type: t }), 2, 1, /msg_type/);
  });

  test('spec §5 missing msg_type → 4, closed 1000', async () => {
    const { m, c } = await setup();
    await expectRefused(signalingUrl(m), signalingReq(c, { msg_type: undefined }), 2, 4, /msg_type/);
  });

  test.each([
    ['meeting', 'meeting_uuid'],
    ['webinar', 'webinar_uuid'],
    ['session', 'session_id'],
    ['contact_center', 'engagement_id'],
  ])('spec §3.1 instance id key for a %s is %s', async (product, key) => {
    mock = await startMock();
    const created = await mock.startMeeting(null, { product });
    const id = created[key];
    expect(typeof id).toBe('string');
    const ws = sockets.add(await WsClient.open(signalingUrl(mock)));
    ws.send({ msg_type: 1, [key]: id, rtms_stream_id: created.rtms_stream_id, signature: sign(id, created.rtms_stream_id) });
    const r = await ws.next((x) => x.msg_type === 2);
    expect(r).toMatchObject({ msg_type: 2, status_code: 0, reason: '' });
    // A data handshake with the same key works too (spec §3.3: same signature).
    const mws = sockets.add(await WsClient.open(mediaUrl(mock, 'audio')));
    mws.send({ msg_type: 3, [key]: id, rtms_stream_id: created.rtms_stream_id, signature: sign(id, created.rtms_stream_id), media_type: 1 });
    expect(await mws.next((x) => x.msg_type === 4)).toMatchObject({ status_code: 0, media_params: { audio: DEFAULTS.audio } });
  });

  test('spec §10 a stream listed in the credentials file (stream_meeting_info) works without the API', async () => {
    mock = await startMock();
    const known = { meeting_uuid: 'TNhvT3WEBT6Srse3TgWRGr', rtms_stream_id: 'rtms_TN3WEBT6SrTgWRGr_001' };
    const ws = sockets.add(await WsClient.open(signalingUrl(mock)));
    ws.send(signalingReq(known));
    expect(await ws.next((x) => x.msg_type === 2)).toMatchObject({ msg_type: 2, status_code: 0, reason: '' });
    const media = sockets.add(await WsClient.open(mediaUrl(mock, 'audio')));
    media.send(dataReq(known, { media_type: 1 }));
    expect(await media.next((x) => x.msg_type === 4)).toMatchObject({ status_code: 0 });
    ws.send({ msg_type: 7, rtms_stream_id: known.rtms_stream_id });
    const audio = await media.next((x) => x.msg_type === 14, 3000, 'audio');
    expect(audio.content.length).toBe(640);
    const info = await mock.api('GET', `/api/meetings/${known.meeting_uuid}`);
    expect(info.status).toBe(200);
    expect(info.body.rtms_stream_id).toBe(known.rtms_stream_id);
  });

  test('spec §5 a credentials-file meeting paired with another entry\'s stream id → 2', async () => {
    mock = await startMock();
    const crossed = { meeting_uuid: 'TNhvT3WEBT6Srse3TgWRGr', rtms_stream_id: 'rtms_KL3WEBT6SrTgWRGs_002' };
    await expectRefused(signalingUrl(mock), signalingReq(crossed), 2, 2);
  });

  test('spec §1 (step 7) a stopped stream is refused with 2', async () => {
    const { m, c } = await setup();
    const r = await m.api('POST', `/api/meetings/${encodeURIComponent(c.meeting_uuid)}/rtms/stop`);
    expect(r.status).toBe(200);
    await expectRefused(signalingUrl(m), signalingReq(c), 2, 2, /stop/);
  });

  test('spec §1 JSON in a binary frame is accepted for the signaling handshake', async () => {
    const { m, c } = await setup();
    const ws = sockets.add(await WsClient.open(signalingUrl(m)));
    ws.send(new TextEncoder().encode(JSON.stringify(signalingReq(c))));
    expect(await ws.next((x) => x.msg_type === 2)).toMatchObject({ status_code: 0, reason: '' });
  });
});

describe('data handshake (spec §3.3)', () => {
  test('spec §3.3/§8 media_type 32 with no media_params: every default echoed exactly', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, 'all', { media_type: 32 });
    sockets.add(ws);
    expect(resp).toEqual({
      msg_type: 4, protocol_version: 1, sequence: 0, status_code: 0, reason: '', payload_encrypted: false,
      media_params: DEFAULTS,
    });
  });

  test('spec §3.3 the example request (all parameters given) is echoed unchanged', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const params = {
      audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 20 },
      video: { content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 },
      deskshare: { content_type: 3, codec: 5, resolution: 3, fps: 1 },
      transcript: { content_type: 5, src_language: 9, enable_lid: true },
      chat: { content_type: 5 },
    };
    const { ws, resp } = await openMedia(m, c, 'all', { media_params: params });
    sockets.add(ws);
    expect(resp.media_params).toEqual(params);
  });

  test('spec §3.3 partial sub-objects take the §8 defaults for missing fields', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, 'all', { media_params: { audio: { sample_rate: 3, channel: 2 }, video: { resolution: 1 }, transcript: { src_language: -1 } } });
    sockets.add(ws);
    expect(resp.media_params).toEqual({
      ...DEFAULTS,
      audio: { ...DEFAULTS.audio, sample_rate: 3, channel: 2 },
      video: { ...DEFAULTS.video, resolution: 1 },
      transcript: { ...DEFAULTS.transcript, src_language: -1 },
    });
  });

  // One failing case (at least) for every parameter status code of spec §5: 17-39 and 43.
  const invalid: [number, string, unknown][] = [
    [17, 'media_params a string', 'audio'],
    [17, 'media_params an array', [{ content_type: 2 }]],
    [17, 'media_params a number', 7],
    [18, 'audio a string', { audio: 'L16' }],
    [18, 'audio an array', { audio: [1] }],
    [19, 'audio content_type 3', { audio: { content_type: 3 } }],
    [19, 'audio content_type "2"', { audio: { content_type: '2' } }],
    [20, 'audio sample_rate 4', { audio: { sample_rate: 4 } }],
    [20, 'audio sample_rate -1', { audio: { sample_rate: -1 } }],
    [20, 'audio sample_rate 1.5', { audio: { sample_rate: 1.5 } }],
    [21, 'audio channel 3', { audio: { channel: 3 } }],
    [21, 'audio channel 0', { audio: { channel: 0 } }],
    [21, 'audio channel "1"', { audio: { channel: '1' } }],
    [22, 'audio codec 5 (JPG)', { audio: { codec: 5 } }],
    [22, 'audio codec 0', { audio: { codec: 0 } }],
    [22, 'audio codec true', { audio: { codec: true } }],
    [23, 'audio data_opt 3 (a video option)', { audio: { data_opt: 3 } }],
    [23, 'audio data_opt 0', { audio: { data_opt: 0 } }],
    [24, 'audio send_rate 30 (not a multiple of 20)', { audio: { send_rate: 30 } }],
    [24, 'audio send_rate 0', { audio: { send_rate: 0 } }],
    [24, 'audio send_rate 1020 (above 1000)', { audio: { send_rate: 1020 } }],
    [24, 'audio send_rate "20"', { audio: { send_rate: '20' } }],
    [25, 'video a string', { video: 'JPG' }],
    [25, 'video a number', { video: 3 }],
    [26, 'video content_type 2 (audio)', { video: { content_type: 2 } }],
    [26, 'video content_type 5', { video: { content_type: 5 } }],
    [27, 'video codec 1 (L16)', { video: { codec: 1 } }],
    [27, 'video codec 8', { video: { codec: 8 } }],
    [28, 'video resolution 0', { video: { resolution: 0 } }],
    [28, 'video resolution 5', { video: { resolution: 5 } }],
    [29, 'video data_opt 1 (an audio option)', { video: { data_opt: 1 } }],
    [29, 'video data_opt 6', { video: { data_opt: 6 } }],
    [30, 'video fps 0', { video: { fps: 0 } }],
    [30, 'video fps 31', { video: { fps: 31 } }],
    [30, 'video fps 2.5', { video: { fps: 2.5 } }],
    [31, 'deskshare a string', { deskshare: 'x' }],
    [31, 'deskshare an array', { deskshare: [] }],
    [32, 'deskshare content_type 1', { deskshare: { content_type: 1 } }],
    [33, 'deskshare codec 4 (OPUS)', { deskshare: { codec: 4 } }],
    [34, 'deskshare resolution 0', { deskshare: { resolution: 0 } }],
    [34, 'deskshare resolution 9', { deskshare: { resolution: 9 } }],
    [35, 'deskshare fps 0', { deskshare: { fps: 0 } }],
    [35, 'deskshare fps 60', { deskshare: { fps: 60 } }],
    [36, 'transcript a string', { transcript: 'en' }],
    [36, 'transcript enable_lid "yes"', { transcript: { enable_lid: 'yes' } }],
    [37, 'transcript content_type 3', { transcript: { content_type: 3 } }],
    [38, 'chat a string', { chat: 'on' }],
    [38, 'chat a boolean', { chat: true }],
    [39, 'chat content_type 2', { chat: { content_type: 2 } }],
    [43, 'transcript src_language 37', { transcript: { src_language: 37 } }],
    [43, 'transcript src_language -2', { transcript: { src_language: -2 } }],
    [43, 'transcript src_language "en"', { transcript: { src_language: 'en' } }],
    [46, 'transcript target_language 99', { transcript: { target_language: 99 } }],
  ];
  test.each(invalid)('spec §5 status %d: %s → refused, closed 1000', async (status, _label, params) => {
    const { m, c } = await setup();
    const sig = sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { media_params: params }), 4, status);
    // A refused data handshake leaves the stream usable: a correct one still succeeds.
    sockets.add((await openMedia(m, c, 'all')).ws);
    expect(sig.isClosed).toBe(false);
  });

  test('spec §5 every status code 17-39 and 43 is covered by the table above', () => {
    const covered = new Set(invalid.map(([s]) => s));
    for (let s = 17; s <= 39; s++) expect(covered.has(s)).toBe(true);
    expect(covered.has(43)).toBe(true);
  });

  test('spec §3.3 a parameter error on a per-type URL uses the same codes (/audio, sample_rate 9 → 20)', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'audio'), dataReq(c, { media_type: 1, media_params: { audio: { sample_rate: 9 } } }), 4, 20);
  });

  test.each([
    ['G711 → sample_rate 0 (8 kHz), channel 1', 'audio', 1, { audio: { codec: 2, sample_rate: 3, channel: 2 } },
      { audio: { content_type: 2, sample_rate: 0, channel: 1, codec: 2, data_opt: 1, send_rate: 20 } }],
    ['G722 → sample_rate 1 (16 kHz), channel 1', 'audio', 1, { audio: { codec: 3, sample_rate: 0, channel: 2 } },
      { audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 3, data_opt: 1, send_rate: 20 } }],
    ['OPUS → sample_rate 3 (48 kHz), send_rate 20', 'audio', 1, { audio: { codec: 4, sample_rate: 1, send_rate: 100 } },
      { audio: { content_type: 2, sample_rate: 3, channel: 1, codec: 4, data_opt: 1, send_rate: 20 } }],
    ['video fps 10 with no codec → JPG at 5 fps', 'video', 2, { video: { fps: 10 } },
      { video: { content_type: 3, codec: 5, resolution: 2, data_opt: 3, fps: 5 } }],
    ['video H264 at fps 10 is kept', 'video', 2, { video: { codec: 7, fps: 10 } },
      { video: { content_type: 3, codec: 7, resolution: 2, data_opt: 3, fps: 10 } }],
    ['video without content_type is accepted', 'video', 2, { video: { codec: 5, resolution: 1, fps: 2 } },
      { video: { content_type: 3, codec: 5, resolution: 1, data_opt: 3, fps: 2 } }],
    ['deskshare H264 at 15 fps is kept', 'deskshare', 4, { deskshare: { codec: 7, fps: 15 } },
      { deskshare: { content_type: 3, codec: 7, resolution: 3, fps: 15 } }],
    ['RTP + L16 + send_rate 100 → accepted, echoed as content_type 2 (RAW_AUDIO)', 'audio', 1,
      { audio: { content_type: 1, codec: 1, sample_rate: 1, channel: 1, data_opt: 1, send_rate: 100 } },
      { audio: { content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 1, send_rate: 100 } }],
  ])('spec §3.3/§8 coercion: %s', async (_l, path, mediaType, params, expected) => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, path as string, { media_type: mediaType, media_params: params });
    sockets.add(ws);
    expect(resp.media_params).toEqual(expected);
  });

  test('spec §3.3/§8 RTP+L16 at send_rate 100 really sends raw L16: 3200-byte messages 100 ms apart', async () => {
    const { m, c } = await setup();
    const sig = sockets.add((await openSignaling(m, c)).ws);
    const { ws } = await openMedia(m, c, 'audio', { media_type: 1, media_params: { audio: { content_type: 1, codec: 1, send_rate: 100 } } });
    sockets.add(ws);
    sig.send({ msg_type: 7, rtms_stream_id: c.rtms_stream_id });
    const got = await ws.collect(14, 3, 3000);
    for (const r of got) {
      expect(r.msg.content.length).toBe(3200);
      expect(Buffer.from(r.msg.content.data, 'base64').length).toBe(3200);
    }
    expect(got[1]!.msg.content.timestamp - got[0]!.msg.content.timestamp).toBe(100);
    expect(got[2]!.msg.content.timestamp - got[1]!.msg.content.timestamp).toBe(100);
  });

  test.each([
    ['a string "32"', '32'],
    ['a float 1.5', 1.5],
    ['a boolean', true],
    ['null', null],
    ['an array', [1]],
  ])('spec §5 media_type not an integer (%s) → 7 INVALID_MEDIA_TYPE', async (_l, mt) => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { media_type: mt }), 4, 7, /media_type/);
  });

  test.each([0, 64, -1, 1000])('spec §5 media_type %d out of range → 14 MEDIA_TYPE_INVALID_VALUE', async (mt) => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { media_type: mt }), 4, 14, /media_type/);
  });

  test.each([
    ['audio', 2], ['video', 1], ['deskshare', 8], ['transcript', 16], ['chat', 1 | 2 | 4 | 8],
  ])('spec §3.3 on /%s, a media_type (%d) without that bit → 7', async (path, mt) => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, path as string), dataReq(c, { media_type: mt }), 4, 7, new RegExp(path as string));
  });

  test('spec §3.3 /audio with media_type 9 (audio + transcript) is accepted with both parameter sets', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, 'audio', { media_type: 9 });
    sockets.add(ws);
    expect(resp).toEqual({
      msg_type: 4, protocol_version: 1, sequence: 0, status_code: 0, reason: '', payload_encrypted: false,
      media_params: { audio: DEFAULTS.audio, transcript: DEFAULTS.transcript },
    });
    // The transcript is now taken: a /transcript socket overlaps → 16.
    await expectRefused(mediaUrl(m, 'transcript'), dataReq(c, { media_type: 8 }), 4, 16);
  });

  test('spec §3.3 a per-type URL echoes only its own parameters (/video, media_type 2)', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, 'video', { media_type: 2, media_params: { audio: { codec: 2 } } });
    sockets.add(ws);
    expect(resp.media_params).toEqual({ video: DEFAULTS.video });
  });

  test('spec §5 a second /all on the same stream → 15 MEDIA_DATA_ALL_CONNECTION_EXIST', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const first = sockets.add((await openMedia(m, c, 'all')).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c), 4, 15);
    await expectRefused(mediaUrl(m, 'audio'), dataReq(c, { media_type: 1 }), 4, 15);
    expect(first.isClosed).toBe(false);
  });

  test('spec §5 /audio twice → 16 DUPLICATE_MEDIA_DATA_CONNECTION', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const first = sockets.add((await openMedia(m, c, 'audio', { media_type: 1 })).ws);
    await expectRefused(mediaUrl(m, 'audio'), dataReq(c, { media_type: 1 }), 4, 16);
    expect(first.isClosed).toBe(false);
    // Other types remain free.
    sockets.add((await openMedia(m, c, 'video', { media_type: 2 })).ws);
  });

  test('spec §5 /all after /audio → 16', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    sockets.add((await openMedia(m, c, 'audio', { media_type: 1 })).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { media_type: 32 }), 4, 16);
  });

  test('spec §1 (step 4)/§5 data handshake before the signaling handshake → 2', async () => {
    const { m, c } = await setup();
    await expectRefused(mediaUrl(m, 'all'), dataReq(c), 4, 2, /signaling/);
  });

  test('spec §3.2/§5 data handshake with a bad signature → 3; with another stream\'s signature → 3', async () => {
    const { m, c } = await setup();
    const other = await m.startMeeting(null);
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { signature: '00'.repeat(32) }), 4, 3, /signature/);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { signature: sign(c.meeting_uuid, other.rtms_stream_id) }), 4, 3);
  });

  test('spec §5 data handshake for an unknown stream → 2; malformed JSON → 4; missing signature → 4', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    await expectRefused(mediaUrl(m, 'all'), dataReq({ meeting_uuid: c.meeting_uuid, rtms_stream_id: 'nope' }), 4, 2);
    await expectRefused(mediaUrl(m, 'all'), '{"msg_type":3,', 4, 4);
    await expectRefused(mediaUrl(m, 'all'), dataReq(c, { signature: undefined }), 4, 4, /signature/);
  });

  test('spec §3.3 payload_encryption true is answered with payload_encrypted false', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const { ws, resp } = await openMedia(m, c, 'audio', { media_type: 1, payload_encryption: true });
    sockets.add(ws);
    expect(resp.payload_encrypted).toBe(false);
    expect(resp.status_code).toBe(0);
  });

  test('spec §1 JSON in a binary frame is accepted for the data handshake', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const ws = sockets.add(await WsClient.open(mediaUrl(m, 'all')));
    ws.send(new TextEncoder().encode(JSON.stringify(dataReq(c))));
    expect(await ws.next((x) => x.msg_type === 4)).toMatchObject({ status_code: 0, media_params: DEFAULTS });
  });

  test('spec §3.3 a failed data handshake reply carries no media_params', async () => {
    const { m, c } = await setup();
    sockets.add((await openSignaling(m, c)).ws);
    const ws = await WsClient.open(mediaUrl(m, 'all'));
    ws.send(dataReq(c, { media_params: { audio: { codec: 9 } } }));
    const r = await expectRefusedOn(ws, 4, 22);
    expect(r.media_params).toBeUndefined();
  });
});
