// Synthetic audio as an app receives it over real sockets (spec §7 msg 14, spec §8 formats and cadence).
// Every session runs on its own in-process mock with a clock the test can move (test/helpers/rtms-session.ts),
// so a whole 27 s dialogue loop is checked in well under a second: a short real-time window for the cadence,
// then clock jumps for the content. Expectations come from data/speech/transcript.json and from parsers
// written here, never from the server's own code.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { until } from '../helpers/driven-app.ts';
import { LiveSessions, firstPacket, type Live, type LiveOptions } from '../helpers/live-session.ts';
import {
  D, SCRIPT, SPEAKER, WarpClock, bytesOf, events, meetingAtOffset, ofType, offsetOf, openClients, openSession, rtpHeader,
} from '../helpers/rtms-session.ts';
import { WsClient, sign, type Received } from '../helpers/ws-client.ts';

// ---- sessions on their own mock and clock ----

const sessions = new LiveSessions({ mediaType: 1, path: 'audio' });
const live = (offset: number, o?: LiveOptions) => sessions.open(offset, o);
const cleanup = () => sessions.stopAll();

/**
 * Moves the session's clock forward to loop offset `to` (may exceed D: the next loop) in steps well inside the
 * keep-alive interval, then waits until the audio due before it has arrived.
 */
async function walk(l: Live, to: number, rate = 20, step = 2000): Promise<void> {
  const target = l.m.createdAt + to;
  while (l.clock.now() < target) {
    l.clock.jump(Math.min(step, target - l.clock.now()));
    await Bun.sleep(15);
  }
  const last = () => ofType(l.s.media, 14).at(-1)?.msg.content.timestamp ?? 0;
  await until(() => last() >= target - 2 * rate, 5000, `audio up to offset ${to}`);
}

/** Moves the clock straight to loop offset `to`: real-time checks start there even after a slow handshake. */
function jumpTo(l: Live, to: number): void {
  const delta = l.m.createdAt + to - l.clock.now();
  if (delta > 0) l.clock.jump(delta);
}

const audioOf = (l: Live): Received[] => ofType(l.s.media, 14);

/** Messages whose arrival came before `realAt` (the real-time part of a session, before any jump). */
const before = (rs: Received[], realAt: number) => rs.filter((r) => r.at < realAt);

/** Messages in the 1 s window starting 300 ms after the first one (start-up work excluded). */
function perSecond(rs: Received[]): number {
  if (rs.length === 0) return 0;
  const from = rs[0]!.at + 300;
  return rs.filter((r) => r.at >= from && r.at < from + 1000).length;
}

// ---- the dialogue: who talks when (data/speech/transcript.json) ----

/** Speakers whose utterance overlaps the frame [t, t + rate) of the loop (spec §8 multi-stream). */
function talkingKeys(t: number, rate: number): string[] {
  return [...new Set(SCRIPT.utterances.filter((u) => u.start_ms < t + rate && u.end_ms > t).map((u) => u.speaker))].sort();
}

/** Silent stretches of the loop (between utterances, including the tail that wraps to the start). */
function gaps(): { from: number; to: number }[] {
  const us = [...SCRIPT.utterances].sort((a, b) => a.start_ms - b.start_ms);
  const out: { from: number; to: number }[] = [];
  let end = 0;
  for (const u of us) {
    if (u.start_ms > end) out.push({ from: end, to: u.start_ms });
    end = Math.max(end, u.end_ms);
  }
  if (end < D) out.push({ from: end, to: D });
  return out;
}

// ---- independent decoders ----

/** G.711 µ-law byte → linear sample (ITU-T G.711). */
function ulaw(b: number): number {
  const u = ~b & 0xff;
  const x = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
  return u & 0x80 ? -x : x;
}

function rmsOf(samples: number[]): number {
  let s = 0;
  for (const x of samples) s += x * x;
  return samples.length ? Math.sqrt(s / samples.length) : 0;
}

/** Duration and stereo flag of an Opus packet from its TOC byte (RFC 6716 §3.1). */
function opusToc(p: Uint8Array): { ms: number; stereo: boolean } {
  const toc = p[0]!;
  const config = toc >> 3;
  const frameMs = config < 12 ? [10, 20, 40, 60][config % 4]! : config < 16 ? [10, 20][config % 2]! : [2.5, 5, 10, 20][config % 4]!;
  const c = toc & 3;
  const frames = c === 0 ? 1 : c === 3 ? p[1]! & 0x3f : 2;
  return { ms: frameMs * frames, stereo: ((toc >> 2) & 1) === 1 };
}

// ---- checks shared by the format table ----

/** Every message: mixed stream shape (spec §7), `length` = decoded bytes, timestamps on the meeting's grid. */
function checkMixedStream(rs: Received[], createdAt: number, rate: number, size: number | null): string[] {
  const problems: string[] = [];
  rs.forEach((r, i) => {
    const c = r.msg.content;
    const bytes = bytesOf(r);
    if (c.user_id !== 0 || 'user_name' in c) problems.push(`#${i}: mixed stream sender ${c.user_id}/${c.user_name}`);
    if (c.length !== bytes.byteLength) problems.push(`#${i}: length ${c.length} but ${bytes.byteLength} bytes`);
    if (size !== null && bytes.byteLength !== size) problems.push(`#${i}: ${bytes.byteLength} bytes, expected ${size}`);
    if ((c.timestamp - createdAt) % rate !== 0) problems.push(`#${i}: timestamp ${c.timestamp} off the ${rate} ms grid`);
    if (i > 0 && c.timestamp - rs[i - 1]!.msg.content.timestamp !== rate) {
      problems.push(`#${i}: timestamp step ${c.timestamp - rs[i - 1]!.msg.content.timestamp}, expected ${rate}`);
    }
  });
  return problems.slice(0, 10);
}

/**
 * Speech inside every utterance and silence in every gap, from decoded samples (`samplesOf`): frames are
 * placed by their timestamp (spec §8: they line up with the transcript times).
 */
function checkSpeechAndSilence(rs: Received[], createdAt: number, rate: number, samplesOf: (b: Uint8Array) => number[]): string[] {
  const problems: string[] = [];
  const frames = rs.map((r) => ({ off: offsetOf(r.msg.content.timestamp, createdAt), samples: samplesOf(bytesOf(r)) }));
  const inside = (from: number, to: number) => frames.filter((f) => f.off >= from && f.off + rate <= to);
  for (const u of SCRIPT.utterances) {
    const fs = inside(u.start_ms, u.end_ms);
    if (fs.length === 0) continue;
    const level = rmsOf(fs.flatMap((f) => f.samples));
    if (!(level > 300)) problems.push(`utterance ${u.start_ms}-${u.end_ms} (${u.speaker}): RMS ${level.toFixed(0)}`);
  }
  // 40 ms margins: the resampler's filter rings briefly around an utterance's edges.
  for (const g of gaps()) {
    for (const f of inside(g.from + 40, g.to - 40)) {
      const level = rmsOf(f.samples);
      if (level > 8) problems.push(`gap ${g.from}-${g.to}: frame at ${f.off} has RMS ${level.toFixed(1)}`);
    }
  }
  return problems.slice(0, 10);
}

function l16(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 1 < b.byteLength; i += 2) out.push(v.getInt16(i, true));
  return out;
}

// ---- every raw format spec §8 allows, mixed stream, 20 ms ----

interface Format {
  name: string;
  params: { codec: number; sample_rate: number; channel: number; content_type?: number };
  /** Bytes per 20 ms message; null for Opus (variable). */
  size: number | null;
  decode?: (b: Uint8Array) => number[];
  rtp?: { pt: number; step: number };
  opusChannels?: 1 | 2;
}

const L16 = (hz: number, sr: number, ch: number): Format => ({
  name: `L16 ${hz / 1000} kHz ${ch === 2 ? 'stereo' : 'mono'}`,
  params: { codec: 1, sample_rate: sr, channel: ch },
  size: (hz / 1000) * 20 * 2 * ch,
  decode: l16,
});

const FORMATS: Format[] = [
  L16(8000, 0, 1), L16(8000, 0, 2), L16(16000, 1, 1), L16(16000, 1, 2),
  L16(32000, 2, 1), L16(32000, 2, 2), L16(48000, 3, 1), L16(48000, 3, 2),
  { name: 'G.711 µ-law 8 kHz mono', params: { codec: 2, sample_rate: 0, channel: 1 }, size: 160, decode: (b) => [...b].map(ulaw) },
  { name: 'G.722 16 kHz mono', params: { codec: 3, sample_rate: 1, channel: 1 }, size: 160 },
  { name: 'Opus 48 kHz mono', params: { codec: 4, sample_rate: 3, channel: 1 }, size: null, opusChannels: 1 },
  { name: 'Opus 48 kHz stereo', params: { codec: 4, sample_rate: 3, channel: 2 }, size: null, opusChannels: 2 },
  // RTP content (spec §8: OPUS 48 kHz, G711 8 kHz, G722 16 kHz, 20 ms): RFC 3550 header + one frame.
  { name: 'RTP G.711', params: { content_type: 1, codec: 2, sample_rate: 0, channel: 1 }, size: 12 + 160, rtp: { pt: 0, step: 160 } },
  // RFC 3551: G.722's RTP clock is 8000 Hz although it samples at 16 kHz.
  { name: 'RTP G.722', params: { content_type: 1, codec: 3, sample_rate: 1, channel: 1 }, size: 12 + 160, rtp: { pt: 9, step: 160 } },
  { name: 'RTP Opus', params: { content_type: 1, codec: 4, sample_rate: 3, channel: 1 }, size: null, rtp: { pt: 111, step: 960 }, opusChannels: 1 },
];

describe('spec §8 audio formats, mixed stream at 20 ms (one mock per format, whole loop)', () => {
  const START = 3300; // alice talks until 3685, silence, bob from 4035 (transcript.json)
  const sessions = new Map<string, { l: Live; jumpedAt: number }>();

  beforeAll(async () => {
    const opened = await Promise.all(FORMATS.map((f) => live(START, { mediaParams: { audio: { ...f.params, data_opt: 1, send_rate: 20 } } })));
    // Real time first (cadence), then the rest of the loop by moving each clock.
    await Bun.sleep(1500);
    const jumpedAt = performance.timeOrigin + performance.now();
    await Promise.all(opened.map((l) => walk(l, START + D)));
    FORMATS.forEach((f, i) => sessions.set(f.name, { l: opened[i]!, jumpedAt }));
  }, 20000);
  afterAll(cleanup);

  for (const f of FORMATS) {
    test(`spec §8 ${f.name}: echoed parameters, payload size, 20 ms timestamps on the meeting grid, real cadence`, () => {
      const { l, jumpedAt } = sessions.get(f.name)!;
      // spec §3.3: the effective parameters are echoed, and they are what arrives.
      expect(l.s.resp.media_params).toEqual({ audio: { content_type: f.params.content_type ?? 2, sample_rate: f.params.sample_rate, channel: f.params.channel, codec: f.params.codec, data_opt: 1, send_rate: 20 } });
      const rs = audioOf(l);
      expect(rs.length).toBeGreaterThanOrEqual((D - 1000) / 20); // the whole loop
      expect(checkMixedStream(rs, l.m.createdAt, 20, f.size)).toEqual([]);
      // The first message is the first grid point after FIRST_PACKET_TIMESTAMP's (spec §3.4), within one frame.
      const first = events(l.s.sig, 1)[0]!.msg.event.timestamp;
      expect(rs[0]!.msg.content.timestamp - first).toBeGreaterThanOrEqual(0);
      expect(rs[0]!.msg.content.timestamp - first).toBeLessThan(20);
      // 50 messages a second in real time (loosely: a count, not a timing measurement).
      const n = perSecond(before(rs, jumpedAt));
      expect(n).toBeGreaterThanOrEqual(35);
      expect(n).toBeLessThanOrEqual(65);
    });

    if (f.decode) {
      test(`spec §8 ${f.name}: speech inside every utterance of transcript.json, silence in every gap`, () => {
        const { l } = sessions.get(f.name)!;
        expect(checkSpeechAndSilence(audioOf(l), l.m.createdAt, 20, f.decode!)).toEqual([]);
      });
    }

    if (f.opusChannels) {
      test(`spec §8 ${f.name}: every message is one 20 ms Opus packet with the negotiated channel count`, () => {
        const { l } = sessions.get(f.name)!;
        const problems: string[] = [];
        for (const r of audioOf(l)) {
          const p = f.rtp ? bytesOf(r).subarray(12) : bytesOf(r);
          const toc = opusToc(p);
          if (toc.ms !== 20) problems.push(`${r.msg.content.timestamp}: ${toc.ms} ms packet`);
          if (toc.stereo !== (f.opusChannels === 2)) problems.push(`${r.msg.content.timestamp}: stereo flag ${toc.stereo}`);
        }
        expect(problems.slice(0, 10)).toEqual([]);
      });
    }

    if (f.rtp) {
      const { pt, step } = f.rtp;
      test(`spec §8 ${f.name}: RTP v2, payload type ${pt}, one SSRC, sequence +1 and RTP timestamp +${step} per message`, () => {
        const { l } = sessions.get(f.name)!;
        const hs = audioOf(l).map((r) => rtpHeader(bytesOf(r)));
        const problems: string[] = [];
        hs.forEach((h, i) => {
          if (h.version !== 2 || h.padding || h.extension || h.csrcCount || h.payloadType !== pt) problems.push(`#${i}: header ${JSON.stringify(h)}`);
          if (i === 0) return;
          const p = hs[i - 1]!;
          if (h.ssrc !== p.ssrc) problems.push(`#${i}: ssrc changed`);
          if (h.sequence !== ((p.sequence + 1) & 0xffff)) problems.push(`#${i}: sequence ${p.sequence} → ${h.sequence}`);
          if (h.timestamp !== ((p.timestamp + step) >>> 0)) problems.push(`#${i}: rtp timestamp ${p.timestamp} → ${h.timestamp}`);
        });
        expect(problems.slice(0, 10)).toEqual([]);
      });
    }
  }
});

// ---- FIRST_PACKET_TIMESTAMP (spec §3.4) ----

describe('spec §3.4 FIRST_PACKET_TIMESTAMP', () => {
  afterEach(cleanup);

  test('spec §3.4 it is the first audio packet\'s timestamp, also when another socket\'s video is prepared first', async () => {
    const clock = new WarpClock();
    const mock = await sessions.mock(clock);
    const m = await meetingAtOffset(mock, clock, 1000);
    // A gallery of two (bob off camera) as PNG HD: a picture loop this process has not rendered yet, so getting
    // the video socket ready takes a while, and it is the first media socket of the stream.
    expect((await mock.api('POST', `/api/meetings/${encodeURIComponent(m.meeting_uuid)}/participants/${SPEAKER.bob!.user_id}/camera-off`)).status).toBe(200);
    const signature = sign(m.meeting_uuid, m.rtms_stream_id);
    const sig = await WsClient.open(`ws://127.0.0.1:${mock.port}/signaling`);
    openClients.add(sig);
    sig.send({ msg_type: 1, meeting_uuid: m.meeting_uuid, rtms_stream_id: m.rtms_stream_id, signature });
    expect(await sig.next((x) => x?.msg_type === 2)).toMatchObject({ status_code: 0 });
    const media: WsClient[] = [];
    for (const [path, mediaType, params] of [['video', 2, { video: { codec: 6, resolution: 2, data_opt: 5 } }], ['audio', 1, {}]] as const) {
      const c = await WsClient.open(`ws://127.0.0.1:${mock.mediaPort}/${path}`);
      openClients.add(c);
      c.send({ msg_type: 3, meeting_uuid: m.meeting_uuid, rtms_stream_id: m.rtms_stream_id, signature, media_type: mediaType, media_params: params });
      expect(await c.next((x) => x?.msg_type === 4)).toMatchObject({ status_code: 0 });
      media.push(c);
    }
    sig.send({ msg_type: 7, rtms_stream_id: m.rtms_stream_id });
    const first = await sig.next((x) => x?.msg_type === 6 && x.event?.event_type === 1, 5000, 'FIRST_PACKET_TIMESTAMP');
    const audio = await media[1]!.next((x) => x?.msg_type === 14, 5000, 'first audio');
    expect(audio.content.timestamp).toBe(first.event.timestamp);
  });
});

// ---- send_rate (spec §8: a multiple of 20 up to 1000; timestamps step by it) ----

describe('spec §8 send_rate', () => {
  afterEach(cleanup);

  test('spec §8 send_rate 60, 100 and 1000: one message per interval with exactly that much audio, timestamps step by it', async () => {
    const cases = [
      { params: { codec: 1, sample_rate: 1, channel: 1, send_rate: 100 }, size: 3200 },
      { params: { codec: 1, sample_rate: 3, channel: 2, send_rate: 1000 }, size: 192000 },
      { params: { codec: 2, sample_rate: 0, channel: 1, send_rate: 100 }, size: 800 },
      { params: { codec: 3, sample_rate: 1, channel: 1, send_rate: 60 }, size: 480 },
    ];
    const ls = await Promise.all(cases.map((c) => live(1000, { mediaParams: { audio: c.params } })));
    await Promise.all(ls.map((l, i) => walk(l, 1000 + 6000, cases[i]!.params.send_rate)));
    ls.forEach((l, i) => {
      const rate = cases[i]!.params.send_rate;
      expect(l.s.resp.media_params.audio).toMatchObject(cases[i]!.params);
      const rs = audioOf(l);
      expect(rs.length).toBeGreaterThanOrEqual(Math.floor((5000 - rate) / rate));
      expect(checkMixedStream(rs, l.m.createdAt, rate, cases[i]!.size)).toEqual([]);
    });
    // L16 at 100 ms: speech and silence land where transcript.json says (1000-7000: alice, gap, bob).
    expect(checkSpeechAndSilence(audioOf(ls[0]!), ls[0]!.m.createdAt, 100, l16)).toEqual([]);
  });

  test('spec §8 send_rate 100 arrives ten times a second in real time', async () => {
    const l = await live(1000, { mediaParams: { audio: { send_rate: 100 } } });
    await Bun.sleep(1500);
    const n = perSecond(audioOf(l));
    expect(n).toBeGreaterThanOrEqual(7);
    expect(n).toBeLessThanOrEqual(13);
  });

  test('spec §8 Opus and RTP are 20 ms packets: a larger send_rate is echoed as 20 and the messages step by 20', async () => {
    const [opus, rtp] = await Promise.all([
      live(1000, { mediaParams: { audio: { codec: 4, sample_rate: 3, send_rate: 100 } } }),
      live(1000, { mediaParams: { audio: { content_type: 1, codec: 2, sample_rate: 0, send_rate: 100 } } }),
    ]);
    await Promise.all([walk(opus, 2000), walk(rtp, 2000)]);
    for (const l of [opus, rtp]) {
      expect(l.s.resp.media_params.audio.send_rate).toBe(20);
      expect(checkMixedStream(audioOf(l), l.m.createdAt, 20, null)).toEqual([]);
    }
  });
});

// ---- multi-stream (spec §8 AUDIO_MULTI_STREAMS) ----

describe('spec §8 AUDIO_MULTI_STREAMS (data_opt 2)', () => {
  afterEach(cleanup);

  /** Per 20 ms tick, the speakers that sent must be exactly those talking in transcript.json. */
  function checkPerSpeaker(l: Live, rate: number, size: number | null): string[] {
    const problems: string[] = [];
    const byTs = new Map<number, Received[]>();
    for (const r of audioOf(l)) {
      const ts = r.msg.content.timestamp as number;
      byTs.set(ts, [...(byTs.get(ts) ?? []), r]);
    }
    const tss = [...byTs.keys()];
    const from = Math.min(...tss);
    const to = Math.max(...tss);
    for (let ts = from; ts <= to; ts += rate) {
      const rs = byTs.get(ts) ?? [];
      const off = offsetOf(ts, l.m.createdAt);
      const got = rs.map((r) => SCRIPT.speakers.find((s) => s.user_id === r.msg.content.user_id)?.key ?? `?${r.msg.content.user_id}`).sort();
      const want = talkingKeys(off, rate);
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`offset ${off}: got [${got}] want [${want}]`);
      for (const r of rs) {
        const c = r.msg.content;
        const s = SCRIPT.speakers.find((x) => x.user_id === c.user_id);
        if (s && c.user_name !== s.user_name) problems.push(`offset ${off}: user_name ${c.user_name} for ${c.user_id}`);
        if (c.length !== bytesOf(r).byteLength) problems.push(`offset ${off}: length field ${c.length}`);
        if (size !== null && c.length !== size) problems.push(`offset ${off}: ${c.length} bytes`);
      }
    }
    return problems.slice(0, 10);
  }

  test('spec §8 L16: per-speaker messages with user_id/user_name, nothing in silence, two at once in crosstalk (whole loop)', async () => {
    const l = await live(0, { mediaParams: { audio: { data_opt: 2 } } });
    expect(l.s.resp.media_params.audio).toEqual({ content_type: 2, sample_rate: 1, channel: 1, codec: 1, data_opt: 2, send_rate: 20 });
    await walk(l, D + 600); // into the next loop's first utterance (alice from 400): the last tick carries audio
    expect(checkPerSpeaker(l, 20, 640)).toEqual([]);
    // The crosstalk of transcript.json (carol 15435-18822, bob 18222-19520) really carries two voices.
    const crosstalk = audioOf(l).filter((r) => { const o = offsetOf(r.msg.content.timestamp, l.m.createdAt); return o >= 18300 && o < 18800; });
    for (const key of ['bob', 'carol']) {
      const mine = crosstalk.filter((r) => r.msg.content.user_id === SPEAKER[key]!.user_id);
      expect(mine.length).toBe(25);
      expect(rmsOf(mine.flatMap((r) => l16(bytesOf(r))))).toBeGreaterThan(300);
    }
    // A per-speaker stream holds only that speaker: alice is silent there, and sends nothing.
    expect(crosstalk.some((r) => r.msg.content.user_id === SPEAKER.alice!.user_id)).toBe(false);
  });

  test('spec §8 real time: crosstalk window 17900-19100 ms, one message per talking speaker per 20 ms', async () => {
    const l = await live(16900, { mediaParams: { audio: { data_opt: 2 } } });
    jumpTo(l, 17900);
    await l.clock.until(l.m.createdAt + 19100);
    await until(() => (audioOf(l).at(-1)?.msg.content.timestamp ?? 0) >= l.m.createdAt + 19060, 3000, 'audio to 19060');
    expect(checkPerSpeaker(l, 20, 640)).toEqual([]);
    const offs = new Set(audioOf(l).filter((r) => r.msg.content.user_id === SPEAKER.bob!.user_id).map((r) => offsetOf(r.msg.content.timestamp, l.m.createdAt)));
    expect(offs.has(18220)).toBe(true); // bob's first frame: 18222 falls in [18220, 18240)
  });

  test('spec §8 a participant who left sends nothing, even while the dialogue has them talking', async () => {
    const clock = new WarpClock();
    const mock = await sessions.mock(clock);
    const m = await meetingAtOffset(mock, clock, 17900);
    const r = await mock.api('POST', `/api/meetings/${encodeURIComponent(m.meeting_uuid)}/participants/${SPEAKER.bob!.user_id}/leave`);
    expect(r.status).toBe(200);
    const s = await openSession(mock, { meeting: m, mediaType: 1, path: 'audio', mediaParams: { audio: { data_opt: 2 } } });
    await firstPacket(s);
    const l: Live = { mock, clock, m, s };
    await walk(l, 20000); // carol talks again from 19770
    const users = new Set(audioOf(l).map((x) => x.msg.content.user_id));
    expect([...users]).toEqual([SPEAKER.carol!.user_id]);
  });

  test('spec §8 G.711 and Opus per speaker: codec frame sizes per message, same speaker sets', async () => {
    const [g711, opus] = await Promise.all([
      live(0, { mediaParams: { audio: { data_opt: 2, codec: 2, sample_rate: 0 } } }),
      live(0, { mediaParams: { audio: { data_opt: 2, codec: 4, sample_rate: 3, channel: 2 } } }),
    ]);
    await Promise.all([walk(g711, D + 600), walk(opus, D + 600)]);
    expect(checkPerSpeaker(g711, 20, 160)).toEqual([]);
    expect(checkPerSpeaker(opus, 20, null)).toEqual([]);
    expect(audioOf(opus).every((r) => opusToc(bytesOf(r)).ms === 20)).toBe(true);
  });

  test('spec §8 RTP per speaker: each speaker is its own RTP stream (own SSRC, sequence +1 per packet, timestamp by elapsed time)', async () => {
    const l = await live(0, { mediaParams: { audio: { data_opt: 2, content_type: 1, codec: 2, sample_rate: 0 } } });
    await walk(l, D + 600);
    expect(checkPerSpeaker(l, 20, 172)).toEqual([]);
    const bySpeaker = new Map<number, { ts: number; h: ReturnType<typeof rtpHeader> }[]>();
    for (const r of audioOf(l)) {
      const id = r.msg.content.user_id as number;
      bySpeaker.set(id, [...(bySpeaker.get(id) ?? []), { ts: r.msg.content.timestamp, h: rtpHeader(bytesOf(r)) }]);
    }
    expect(bySpeaker.size).toBe(3);
    const ssrcs = new Set([...bySpeaker.values()].map((ps) => ps[0]!.h.ssrc));
    expect(ssrcs.size).toBe(3);
    const problems: string[] = [];
    for (const [id, ps] of bySpeaker) {
      ps.forEach((p, i) => {
        if (p.h.ssrc !== ps[0]!.h.ssrc) problems.push(`${id}: ssrc changed at ${p.ts}`);
        if (i === 0) return;
        const q = ps[i - 1]!;
        if (p.h.sequence !== ((q.h.sequence + 1) & 0xffff)) problems.push(`${id}: sequence ${q.h.sequence} → ${p.h.sequence} at ${p.ts}`);
        // 8 kHz: 8 RTP units per ms, across the silences too (RFC 3550 §5.1).
        if (p.h.timestamp !== ((q.h.timestamp + (p.ts - q.ts) * 8) >>> 0)) problems.push(`${id}: rtp timestamp ${q.h.timestamp} → ${p.h.timestamp} over ${p.ts - q.ts} ms`);
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});
