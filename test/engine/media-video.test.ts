// Synthetic video and screen share as an app receives them over real sockets (spec §7 msg 15/16, spec §8).
// Each session has its own in-process mock and a clock the test moves (test/helpers/rtms-session.ts); frames are
// checked with parsers written here (JPEG markers, PNG chunks + zlib, H.264 Annex-B + SPS), and who should be on
// camera comes from data/speech/transcript.json, not from the server's code.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { inflateSync } from 'node:zlib';
import { until } from '../helpers/driven-app.ts';
import { LiveSessions, jumpTo, offsetNow, settled, type Live, type LiveOptions } from '../helpers/live-session.ts';
import { D, SPEAKER, bytesOf, events, jpegSof0, ofType, offsetOf, pngIhdr, speakerAt, startsWithStartCode } from '../helpers/rtms-session.ts';
import type { Received } from '../helpers/ws-client.ts';

// ---- sessions on their own mock and clock ----

const sessions = new LiveSessions({ mediaType: 2, path: 'video' });
const live = (offset: number, o?: LiveOptions) => sessions.open(offset, o);
const cleanup = () => sessions.stopAll();

async function walk(l: Live, to: number, step = 1000): Promise<void> {
  const target = l.m.createdAt + to;
  while (l.clock.now() < target) {
    l.clock.jump(Math.min(step, target - l.clock.now()));
    await Bun.sleep(15);
    await until(() => settled(l), 5000, 'media delivered');
  }
}

const api = (l: Pick<Live, 'mock' | 'm'>, userId: number, action: string) =>
  l.mock.api('POST', `/api/meetings/${encodeURIComponent(l.m.meeting_uuid)}/participants/${userId}/${action}`);

const ALICE = SPEAKER.alice!;
const BOB = SPEAKER.bob!;
const CAROL = SPEAKER.carol!;
const SIZE: Record<number, { width: number; height: number }> = {
  1: { width: 640, height: 360 }, 2: { width: 1280, height: 720 }, 3: { width: 1920, height: 1080 }, 4: { width: 2560, height: 1440 },
};
/** The sharer of the dialogue and its window (the mock's decision: the last speaker, 1 s in to 1 s before the end). */
const SHARE = { from: 1000, to: D - 1000, by: CAROL };

// ---- independent container checks ----

/** A whole baseline JPEG: SOI, SOF0 with the size, a scan, EOI at the very end. */
function jpegProblems(b: Uint8Array, want: { width: number; height: number }): string | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return 'no SOI';
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) return 'no EOI at the end';
  const sof = jpegSof0(b);
  if (!sof) return 'no SOF0';
  if (sof.width !== want.width || sof.height !== want.height) return `SOF0 ${sof.width}x${sof.height}`;
  return null;
}

/** A whole PNG: signature, IHDR with the size, chunk CRCs, IDAT that inflates to exactly the scanlines, IEND. */
function pngProblems(b: Uint8Array, want: { width: number; height: number }): string | null {
  const ihdr = pngIhdr(b);
  if (!ihdr) return 'no PNG signature / IHDR';
  if (ihdr.width !== want.width || ihdr.height !== want.height) return `IHDR ${ihdr.width}x${ihdr.height}`;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const depth = b[24]!;
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[b[25]!];
  if (depth !== 8 || !channels) return `unexpected bit depth ${depth} / colour type ${b[25]}`;
  const idat: Uint8Array[] = [];
  let i = 8;
  let last = '';
  while (i + 12 <= b.length) {
    const len = v.getUint32(i);
    const type = String.fromCharCode(...b.subarray(i + 4, i + 8));
    if (i + 12 + len > b.length) return `chunk ${type} overruns`;
    const crc = Bun.hash.crc32(b.subarray(i + 4, i + 8 + len)) >>> 0;
    if (crc !== v.getUint32(i + 8 + len)) return `bad CRC in ${type}`;
    if (type === 'IDAT') idat.push(b.subarray(i + 8, i + 8 + len));
    last = type;
    i += 12 + len;
  }
  if (last !== 'IEND' || i !== b.length) return 'no IEND at the end';
  const raw = inflateSync(Buffer.concat(idat));
  const expect = want.height * (1 + want.width * channels);
  return raw.length === expect ? null : `IDAT inflates to ${raw.length} bytes, expected ${expect}`;
}

/** NAL units (without start codes) of an Annex-B byte stream. */
function nalUnits(b: Uint8Array): Uint8Array[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) { starts.push({ at: i + 3, len: i > 0 && b[i - 1] === 0 ? 4 : 3 }); i += 2; }
  }
  return starts.map((s, k) => {
    const next = starts[k + 1];
    return b.subarray(s.at, next ? next.at - next.len : b.length);
  });
}

/** Width and height from an H.264 SPS (ITU-T H.264 §7.3.2.1.1), emulation prevention removed. */
function spsSize(nal: Uint8Array): { width: number; height: number } {
  const rbsp: number[] = [];
  let zeros = 0;
  for (const x of nal.subarray(1)) {
    if (zeros >= 2 && x === 3) { zeros = 0; continue; }
    rbsp.push(x);
    zeros = x === 0 ? zeros + 1 : 0;
  }
  let pos = 0;
  const u = (n: number) => { let v = 0; for (let k = 0; k < n; k++, pos++) v = v * 2 + ((rbsp[pos >> 3]! >> (7 - (pos & 7))) & 1); return v; };
  const ue = () => { let z = 0; while (u(1) === 0) z++; return 2 ** z - 1 + u(z); };
  const se = () => { const k = ue(); return k % 2 ? (k + 1) / 2 : -k / 2; };
  const profile = u(8); u(16); ue();
  let chroma = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chroma = ue();
    if (chroma === 3) u(1);
    ue(); ue(); u(1);
    if (u(1)) {
      for (let k = 0; k < (chroma === 3 ? 12 : 8); k++) {
        if (!u(1)) continue;
        let lastScale = 8, nextScale = 8;
        for (let j = 0; j < (k < 6 ? 16 : 64); j++) {
          if (nextScale !== 0) nextScale = (lastScale + se() + 256) % 256;
          lastScale = nextScale === 0 ? lastScale : nextScale;
        }
      }
    }
  }
  ue();
  const pocType = ue();
  if (pocType === 0) ue();
  else if (pocType === 1) { u(1); se(); se(); const n = ue(); for (let k = 0; k < n; k++) se(); }
  ue(); u(1);
  const wMbs = ue() + 1;
  const hMaps = ue() + 1;
  const frameMbsOnly = u(1);
  if (!frameMbsOnly) u(1);
  u(1);
  let crop = [0, 0, 0, 0];
  if (u(1)) crop = [ue(), ue(), ue(), ue()];
  const cx = chroma === 1 || chroma === 2 ? 2 : 1;
  const cy = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return { width: wMbs * 16 - cx * (crop[0]! + crop[1]!), height: (2 - frameMbsOnly) * hMaps * 16 - cy * (crop[2]! + crop[3]!) };
}

interface AccessUnit { types: number[]; key: boolean; size: { width: number; height: number } | null; problem: string | null }

/** One message = one access unit (spec §8): one picture (all VCL NALs of one kind), SPS and PPS ahead of an IDR. */
function accessUnit(b: Uint8Array): AccessUnit {
  const nals = nalUnits(b);
  const types = nals.map((n) => n[0]! & 0x1f);
  const vcl = types.filter((t) => t >= 1 && t <= 5);
  const key = vcl.includes(5);
  let problem: string | null = null;
  if (!startsWithStartCode(b)) problem = 'no start code';
  else if (vcl.length === 0) problem = `no picture: [${types}]`;
  else if (new Set(vcl).size !== 1) problem = `mixed slices: [${types}]`;
  else if (key && !(types.indexOf(7) >= 0 && types.indexOf(8) >= 0 && types.indexOf(7) < types.indexOf(5) && types.indexOf(8) < types.indexOf(5))) {
    problem = `IDR without SPS/PPS before it: [${types}]`;
  }
  const sps = nals.find((n) => (n[0]! & 0x1f) === 7);
  return { types, key, size: sps ? spsSize(sps) : null, problem };
}

// ---- shared frame checks ----

/** Timestamps on the meeting's grid of 1000/fps ms, one interval apart (spec §8: they step by 1000/fps). */
function gridProblems(rs: Received[], createdAt: number, fps: number): string[] {
  const problems: string[] = [];
  let prevK = -1;
  for (const r of rs) {
    const ts = r.msg.content.timestamp as number;
    const k = Math.round(((ts - createdAt) * fps) / 1000);
    if (Math.abs(ts - createdAt - (k * 1000) / fps) > 0.5) problems.push(`${ts}: not on the 1000/${fps} ms grid`);
    if (prevK >= 0 && k !== prevK + 1) problems.push(`${ts}: step of ${k - prevK} intervals`);
    prevK = k;
  }
  return problems.slice(0, 10);
}

/** Content shape (spec §7): sender fields and `length` equal to the decoded bytes. */
function shapeProblems(rs: Received[]): string[] {
  return rs.flatMap((r) => {
    const c = r.msg.content;
    const n = bytesOf(r).byteLength;
    return c.length === n ? [] : [`${c.timestamp}: length ${c.length}, ${n} bytes`];
  }).slice(0, 10);
}

function senderProblems(rs: Received[], createdAt: number, who: (off: number) => { user_id: number; user_name: string }): string[] {
  return rs.flatMap((r) => {
    const off = offsetOf(r.msg.content.timestamp, createdAt);
    const w = who(off);
    const c = r.msg.content;
    return c.user_id === w.user_id && c.user_name === w.user_name ? [] : [`offset ${off}: ${c.user_id}/${c.user_name}, expected ${w.user_name}`];
  }).slice(0, 10);
}

const perSecond = (rs: Received[]) => {
  if (rs.length === 0) return 0;
  const from = rs[0]!.at + 300;
  return rs.filter((r) => r.at >= from && r.at < from + 1000).length;
};

// ---- camera video ----

describe('spec §8 video JPG and PNG at every resolution (5 fps, active speaker)', () => {
  // Only alice's camera is on, so each size renders one participant's loop; she is the active speaker 400-4035.
  const cases = [5, 6].flatMap((codec) => [1, 2, 3, 4].map((resolution) => ({ codec, resolution })));
  const sessions: Live[] = [];
  beforeAll(async () => {
    for (const c of cases) {
      sessions.push(await live(1000, {
        mediaParams: { video: { codec: c.codec, resolution: c.resolution } },
        before: async (mock, m) => { for (const id of [BOB.user_id, CAROL.user_id]) expect((await api({ mock, m }, id, 'camera-off')).status).toBe(200); },
      }));
    }
    await Promise.all(sessions.map((l) => walk(l, Math.max(3000, offsetNow(l) + 2000))));
  }, 30000);
  afterAll(cleanup);

  cases.forEach((c, i) => {
    const size = SIZE[c.resolution]!;
    test(`spec §8 ${c.codec === 5 ? 'JPG' : 'PNG'} ${size.width}x${size.height}: whole images of that size from the active speaker, 200 ms apart`, () => {
      const l = sessions[i]!;
      expect(l.s.resp.media_params).toEqual({ video: { content_type: 3, codec: c.codec, resolution: c.resolution, data_opt: 3, fps: 5 } });
      const rs = ofType(l.s.media, 15);
      expect(rs.length).toBeGreaterThanOrEqual(8); // 1000-3000 ms at 5 fps
      const bad = rs.map((r) => (c.codec === 5 ? jpegProblems : pngProblems)(bytesOf(r), size)).filter((p) => p !== null);
      expect(bad.slice(0, 5)).toEqual([]);
      expect(senderProblems(rs, l.m.createdAt, () => ALICE)).toEqual([]);
      expect(gridProblems(rs, l.m.createdAt, 5)).toEqual([]);
      expect(shapeProblems(rs)).toEqual([]);
    });
  });
});

describe('spec §8 video cadence, speakers, options', () => {
  afterEach(cleanup);

  test('spec §8 JPG fps 1-5: timestamps step by 1000/fps on the meeting grid', async () => {
    const ls = await Promise.all([1, 2, 3, 4, 5].map((fps) => live(500, { mediaParams: { video: { codec: 5, resolution: 1, fps } } })));
    await Promise.all(ls.map((l) => walk(l, Math.max(3500, offsetNow(l) + 3000))));
    ls.forEach((l, i) => {
      const fps = i + 1;
      expect(l.s.resp.media_params.video).toEqual({ content_type: 3, codec: 5, resolution: 1, data_opt: 3, fps });
      const rs = ofType(l.s.media, 15);
      expect(rs.length).toBeGreaterThanOrEqual(fps + 1); // over a second of frames, contiguous (grid check)
      expect(gridProblems(rs, l.m.createdAt, fps)).toEqual([]);
    });
  });

  test('spec §8 real time: JPG 5 fps and H264 30 fps arrive at their cadence, and the JPG sender switches when bob starts talking', async () => {
    const [jpg, h264] = await Promise.all([
      live(2700, { mediaParams: { video: { resolution: 1 } } }),
      live(2700, { mediaParams: { video: { codec: 7, resolution: 1, fps: 30 } } }),
    ]);
    jumpTo(jpg, 3700);
    jumpTo(h264, 3700);
    await jpg.clock.until(jpg.m.createdAt + 5100); // across alice → bob (4035)
    const j = ofType(jpg.s.media, 15);
    const h = ofType(h264.s.media, 15);
    expect(perSecond(j)).toBeGreaterThanOrEqual(3);
    expect(perSecond(j)).toBeLessThanOrEqual(7);
    expect(perSecond(h)).toBeGreaterThanOrEqual(20);
    expect(perSecond(h)).toBeLessThanOrEqual(40);
    expect(senderProblems(j, jpg.m.createdAt, (off) => speakerAt(off))).toEqual([]);
    expect(new Set(j.map((r) => r.msg.content.user_id))).toEqual(new Set([ALICE.user_id, BOB.user_id]));
    expect(gridProblems(j, jpg.m.createdAt, 5)).toEqual([]);
    expect(gridProblems(h, h264.m.createdAt, 30)).toEqual([]);
  });

  test('spec §8 default video (JPG 5 fps, active speaker; SD here): over a whole loop every frame shows the speaker of transcript.json', async () => {
    const l = await live(3500, { mediaParams: { video: { resolution: 1 } } });
    await walk(l, Math.max(3500, offsetNow(l)) + D);
    const rs = ofType(l.s.media, 15);
    expect(rs.length).toBeGreaterThanOrEqual((D / 1000) * 5 - 5);
    expect(senderProblems(rs, l.m.createdAt, (off) => speakerAt(off))).toEqual([]);
    expect(gridProblems(rs, l.m.createdAt, 5)).toEqual([]);
    expect(new Set(rs.map((r) => r.msg.content.user_id))).toEqual(new Set([ALICE.user_id, BOB.user_id, CAROL.user_id]));
    expect(rs.map((r) => jpegProblems(bytesOf(r), SIZE[1]!)).filter((p) => p)).toEqual([]);
  });

  test('spec §8 fps above 5 without H264 is sent as JPG (no codec) or the requested PNG at 5 fps, as echoed', async () => {
    const [jpg, png] = await Promise.all([
      live(1000, { mediaParams: { video: { resolution: 1, fps: 15 } } }),
      live(1000, { mediaParams: { video: { resolution: 1, codec: 6, fps: 10 } } }),
    ]);
    await Promise.all([jpg, png].map((l) => walk(l, Math.max(2500, offsetNow(l) + 1500))));
    expect(jpg.s.resp.media_params.video).toMatchObject({ codec: 5, fps: 5 });
    expect(png.s.resp.media_params.video).toMatchObject({ codec: 6, fps: 5 });
    for (const [l, check] of [[jpg, jpegProblems], [png, pngProblems]] as const) {
      const rs = ofType(l.s.media, 15);
      expect(rs.length).toBeGreaterThanOrEqual(6);
      expect(gridProblems(rs, l.m.createdAt, 5)).toEqual([]);
      expect(rs.map((r) => check(bytesOf(r), SIZE[1]!)).filter((p) => p)).toEqual([]);
    }
  });

  test('spec §8 nothing is sent while the active speaker\'s camera is off; PARTICIPANT_VIDEO_OFF/ON when subscribed', async () => {
    const l = await live(1000, { mediaParams: { video: { resolution: 1 } }, events: [8, 9] });
    await walk(l, Math.max(1500, offsetNow(l) + 500)); // some frames first, however late the stream started
    expect((await api(l, ALICE.user_id, 'camera-off')).status).toBe(200);
    const offAt = l.clock.now();
    await walk(l, 3500); // alice is still the active speaker
    const onAt = l.clock.now(); // read before the request: frames may follow as soon as the server has it
    expect((await api(l, ALICE.user_id, 'camera-on')).status).toBe(200);
    await walk(l, 4000);
    const rs = ofType(l.s.media, 15);
    const ts = rs.map((r) => r.msg.content.timestamp as number);
    expect(ts.filter((t) => t > offAt && t < onAt)).toEqual([]);
    expect(ts.filter((t) => t < offAt).length).toBeGreaterThan(0);
    expect(ts.filter((t) => t > onAt).length).toBeGreaterThan(0);
    expect(events(l.s.sig, 9).map((e) => e.msg.event.participants)).toEqual([[{ user_id: ALICE.user_id }]]);
    // The roster at activation (decision, README) plus the camera coming back.
    expect(events(l.s.sig, 8).at(-1)!.msg.event.participants).toEqual([{ user_id: ALICE.user_id }]);
  });

  test('spec §4.4/§8 individual stream (data_opt 4): nothing until VIDEO_SUBSCRIPTION_REQ, then only that participant', async () => {
    const l = await live(1000, { mediaParams: { video: { resolution: 1, data_opt: 4 } } });
    await walk(l, 1600);
    expect(ofType(l.s.media, 15)).toEqual([]);
    l.s.sig.send({ msg_type: 28, user_id: BOB.user_id, subscribe: true });
    expect(await l.s.sig.next((x) => x?.msg_type === 29)).toMatchObject({ msg_type: 29, user_id: BOB.user_id, status_code: 0 });
    const bobFrom = l.clock.now();
    await walk(l, 2600); // alice is the active speaker: the subscription wins
    const bobUntil = l.clock.now(); // before the next request: frames may change as soon as the server has it
    l.s.sig.send({ msg_type: 28, user_id: CAROL.user_id, subscribe: true });
    expect(await l.s.sig.next((x) => x?.msg_type === 29)).toMatchObject({ msg_type: 29, user_id: CAROL.user_id, status_code: 0 });
    const carolFrom = l.clock.now();
    await walk(l, 3600);
    const rs = ofType(l.s.media, 15);
    const who = (r: Received) => r.msg.content.user_id as number;
    const at = (r: Received) => r.msg.content.timestamp as number;
    const bobs = rs.filter((r) => at(r) > bobFrom + 1 && at(r) < bobUntil);
    expect(bobs.length).toBeGreaterThanOrEqual(4);
    // Offenders as [offset, user_id] with the windows' offsets, so a failure says what arrived when.
    const off = (t: number) => Math.round(t - l.m.createdAt);
    const windows = { bobFrom: off(bobFrom), bobUntil: off(bobUntil), carolFrom: off(carolFrom) };
    expect({ ...windows, wrong: bobs.filter((r) => who(r) !== BOB.user_id || r.msg.content.user_name !== BOB.user_name).map((r) => [off(at(r)), who(r)]) })
      .toEqual({ ...windows, wrong: [] });
    expect({ ...windows, wrong: rs.filter((r) => at(r) > carolFrom + 1 && who(r) !== CAROL.user_id).map((r) => [off(at(r)), who(r)]) })
      .toEqual({ ...windows, wrong: [] });
    expect(rs.filter((r) => at(r) > carolFrom + 1).length).toBeGreaterThanOrEqual(4);
    expect(rs.some((r) => who(r) === ALICE.user_id)).toBe(false);
    expect(gridProblems(rs, l.m.createdAt, 5)).toEqual([]);
  });

  test('spec §8 gallery view (data_opt 5): one mixed picture at the negotiated size whoever talks, user_id 0', async () => {
    const l = await live(3500, { mediaParams: { video: { resolution: 1, data_opt: 5 } } });
    await walk(l, Math.max(9000, offsetNow(l) + 5500)); // alice, silence, bob, carol
    const rs = ofType(l.s.media, 15);
    expect(rs.length).toBeGreaterThanOrEqual(5 * 5);
    expect(rs.every((r) => r.msg.content.user_id === 0)).toBe(true);
    expect(rs.map((r) => jpegProblems(bytesOf(r), SIZE[1]!)).filter((p) => p)).toEqual([]);
    expect(gridProblems(rs, l.m.createdAt, 5)).toEqual([]);
  });
});

describe('spec §8 H264 above 5 fps', () => {
  afterEach(cleanup);

  function h264Problems(rs: Received[], size: { width: number; height: number }): string[] {
    const problems: string[] = [];
    let prevSender = -1;
    rs.forEach((r, i) => {
      const au = accessUnit(bytesOf(r));
      if (au.problem) problems.push(`#${i} (${r.msg.content.timestamp}): ${au.problem}`);
      if (au.size && (au.size.width !== size.width || au.size.height !== size.height)) problems.push(`#${i}: SPS ${au.size.width}x${au.size.height}`);
      // The first frame, and the first after the camera changes, is a key frame (decodable on its own).
      if (r.msg.content.user_id !== prevSender && !au.key) problems.push(`#${i}: first frame of ${r.msg.content.user_id} is not a key frame`);
      prevSender = r.msg.content.user_id;
    });
    return problems.slice(0, 10);
  }

  test('spec §8 H264 SD/HD/FHD/QHD at 30 fps: one Annex-B access unit per message, key frames with SPS/PPS, SPS size, 1000/30 ms steps', async () => {
    const ls = await Promise.all([1, 2, 3, 4].map((resolution) => live(3800, { mediaParams: { video: { codec: 7, resolution, fps: 30 } } })));
    // Across alice → bob (4035) and on, 2.2 s past the stream's real start (a slow handshake starts it later).
    await Promise.all(ls.map((l) => walk(l, Math.max(6000, offsetNow(l) + 2200), 500)));
    ls.forEach((l, i) => {
      const resolution = i + 1;
      expect(l.s.resp.media_params.video).toEqual({ content_type: 3, codec: 7, resolution, data_opt: 3, fps: 30 });
      const rs = ofType(l.s.media, 15);
      expect(rs.length).toBeGreaterThanOrEqual(60);
      expect(h264Problems(rs, SIZE[resolution]!)).toEqual([]);
      expect(accessUnit(bytesOf(rs[0]!)).key).toBe(true);
      expect(rs.some((r) => accessUnit(bytesOf(r)).size !== null)).toBe(true);
      // Not every frame is a key frame: the stream has P frames between them.
      expect(rs.filter((r) => !accessUnit(bytesOf(r)).key).length).toBeGreaterThan(rs.length / 2);
      expect(gridProblems(rs, l.m.createdAt, 30)).toEqual([]);
      expect(senderProblems(rs, l.m.createdAt, (off) => speakerAt(off))).toEqual([]);
      expect(shapeProblems(rs)).toEqual([]);
    });
  });

  test('spec §8 H264 at 10 and 15 fps: timestamps step by 100 and 66.7 ms', async () => {
    const ls = await Promise.all([10, 15].map((fps) => live(1000, { mediaParams: { video: { codec: 7, resolution: 1, fps } } })));
    await Promise.all(ls.map((l) => walk(l, offsetNow(l) + 2000))); // 2 s from the stream's start, however slow it was
    ls.forEach((l, i) => {
      const fps = [10, 15][i]!;
      expect(l.s.resp.media_params.video).toMatchObject({ codec: 7, fps });
      const rs = ofType(l.s.media, 15);
      expect(rs.length).toBeGreaterThanOrEqual(2 * fps - 2);
      expect(gridProblems(rs, l.m.createdAt, fps)).toEqual([]);
      expect(h264Problems(rs, SIZE[1]!)).toEqual([]);
    });
  });
});

// ---- screen share ----

describe('spec §8 screen share (deskshare)', () => {
  afterEach(cleanup);

  const inWindow = (off: number) => off >= SHARE.from && off < SHARE.to;

  test('spec §8 default share (JPG FHD 1 fps) only during the share window, from the sharer; SHARING_START/STOP when subscribed', async () => {
    const l = await live(24000, { mediaType: 4, path: 'deskshare', events: [5, 6] });
    expect(l.s.resp.media_params).toEqual({ deskshare: { content_type: 3, codec: 5, resolution: 3, fps: 1 } });
    await walk(l, D + 4000, 500);
    // The roster on activation says a share is on (README decision), with the sharer.
    expect(events(l.s.sig, 5)[0]?.msg.event).toMatchObject({ user_id: CAROL.user_id, user_name: CAROL.user_name });
    const rs = ofType(l.s.media, 16);
    const offs = rs.map((r) => offsetOf(r.msg.content.timestamp, l.m.createdAt));
    expect(offs.every(inWindow)).toBe(true);
    expect(offs).toContain(25000);
    expect(offs).toContain(1000);
    expect(offs).toContain(3000);
    expect(offs).not.toContain(26000);
    expect(rs.map((r) => jpegProblems(bytesOf(r), SIZE[3]!)).filter((p) => p)).toEqual([]);
    expect(senderProblems(rs, l.m.createdAt, () => CAROL)).toEqual([]);
    const thisLoop = (r: Received) => r.msg.content.timestamp < l.m.createdAt + D;
    expect(gridProblems(rs.filter(thisLoop), l.m.createdAt, 1)).toEqual([]);
    expect(gridProblems(rs.filter((r) => !thisLoop(r)), l.m.createdAt, 1)).toEqual([]);
    // Stop at the end of the window, start again one second into the next loop.
    const stops = events(l.s.sig, 6);
    const starts = events(l.s.sig, 5);
    expect(stops.length).toBe(1);
    expect(starts.length).toBe(2);
    expect(stops[0]!.msg.event.timestamp).toBeGreaterThanOrEqual(l.m.createdAt + SHARE.to);
    expect(stops[0]!.msg.event.timestamp).toBeLessThan(l.m.createdAt + SHARE.to + 1000); // sent when the moved clock got there
    expect(starts[1]!.msg.event).toMatchObject({ user_id: CAROL.user_id, user_name: CAROL.user_name });
    expect(starts[1]!.msg.event.timestamp).toBeGreaterThanOrEqual(l.m.createdAt + D + SHARE.from);
    expect(starts[1]!.msg.event.timestamp).toBeLessThan(l.m.createdAt + D + SHARE.from + 1000);
  });

  test('spec §8 share H264 at 10 fps (SD/QHD) and PNG: access units with a key frame first after each start; no events unsubscribed', async () => {
    const [sd, qhd, png] = await Promise.all([
      live(25500, { mediaType: 4, path: 'deskshare', mediaParams: { deskshare: { codec: 7, resolution: 1, fps: 10 } } }),
      live(25500, { mediaType: 4, path: 'deskshare', mediaParams: { deskshare: { codec: 7, resolution: 4, fps: 10 } } }),
      live(25500, { mediaType: 4, path: 'deskshare', mediaParams: { deskshare: { codec: 6, resolution: 1, fps: 2 } } }),
    ]);
    await Promise.all([sd, qhd, png].map((l) => walk(l, D + 1600, 500)));
    for (const [l, size] of [[sd, SIZE[1]!], [qhd, SIZE[4]!]] as const) {
      expect(l.s.resp.media_params.deskshare).toEqual({ content_type: 3, codec: 7, resolution: size === SIZE[1] ? 1 : 4, fps: 10 });
      const rs = ofType(l.s.media, 16);
      const offs = rs.map((r) => offsetOf(r.msg.content.timestamp, l.m.createdAt));
      expect(offs.every(inWindow)).toBe(true);
      const aus = rs.map((r) => accessUnit(bytesOf(r)));
      expect(aus.map((a) => a.problem).filter((p) => p)).toEqual([]);
      expect(aus.filter((a) => a.size).every((a) => a.size!.width === size.width && a.size!.height === size.height)).toBe(true);
      // The first frame, and the first after the share starts again, are key frames.
      const restart = offs.findIndex((o) => o < SHARE.to - 1000);
      expect(restart).toBeGreaterThan(0);
      expect(aus[0]!.key).toBe(true);
      expect(aus[restart]!.key).toBe(true);
      expect(offs[restart]).toBe(SHARE.from);
      expect(senderProblems(rs, l.m.createdAt, () => CAROL)).toEqual([]);
      expect(events(l.s.sig, 5).concat(events(l.s.sig, 6))).toEqual([]);
    }
    const rs = ofType(png.s.media, 16);
    expect(rs.length).toBeGreaterThanOrEqual(2);
    expect(rs.map((r) => pngProblems(bytesOf(r), SIZE[1]!)).filter((p) => p)).toEqual([]);
    expect(rs.every((r) => inWindow(offsetOf(r.msg.content.timestamp, png.m.createdAt)))).toBe(true);
  });

  test('spec §8 share and camera video on one "all" socket: share frames only from the sharer, video from the speaker', async () => {
    const l = await live(8000, {
      mediaType: 32, path: 'all',
      mediaParams: { audio: { data_opt: 1 }, video: { resolution: 1 }, deskshare: { codec: 7, resolution: 1, fps: 10 } },
    });
    await walk(l, 10500);
    const share = ofType(l.s.media, 16);
    const video = ofType(l.s.media, 15);
    expect(share.length).toBeGreaterThanOrEqual(20);
    expect(senderProblems(share, l.m.createdAt, () => CAROL)).toEqual([]);
    expect(senderProblems(video, l.m.createdAt, (off) => speakerAt(off))).toEqual([]);
    expect(new Set(video.map((r) => r.msg.content.user_id))).toEqual(new Set([BOB.user_id, CAROL.user_id]));
    expect(ofType(l.s.media, 14).length).toBeGreaterThanOrEqual(100);
  });
});
