// The page's "This browser" source end to end (issue 3): headless Chromium with a fake camera (four coloured
// quadrants, y4m) and a fake microphone (440 Hz, wav) starts a meeting from the page; the reference RTMS app,
// connected over real sockets, must receive video frames that are pictures of that camera at the negotiated
// size and codec, and non-silent audio at the negotiated rate carrying the 440 Hz tone.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { colourClose, FAKE_AUDIO, FAKE_VIDEO, writeFakeMedia } from './helpers/fake-media.ts';
import { decodeQuadrants, dominantHz, jpegSize, nalTypes, pcmOf, received, rms } from './helpers/media-check.ts';
import { expectCleanPage, meetingPanel, openMockPage, screenshot, until, type MockPage } from './helpers/mock-page.ts';
import { expectText } from './helpers/ui.ts';

// spec §2, §6
const MSG = { AUDIO: 14, VIDEO: 15 } as const;
const RATE_HZ = [8000, 16000, 32000, 48000];
const SIZE: Record<number, [number, number]> = { 1: [640, 360], 2: [1280, 720], 3: [1920, 1080], 4: [2560, 1440] };

let mp: MockPage;
let page: Page;

beforeAll(async () => {
  const fake = writeFakeMedia();
  mp = await openMockPage({ browser: { fakeVideo: fake.video, fakeAudio: fake.audio } });
  page = mp.page;
}, 30_000);

afterAll(async () => {
  await mp?.close();
});

/** Starts a "This browser" meeting (microphone + camera) from the page towards `app`; returns its uuid. */
async function startBrowserMeeting(app: ReferenceApp): Promise<string> {
  const before = new Set((await mp.mock.api('GET', '/api/meetings')).body.meetings.map((m: any) => m.meeting_uuid));
  await page.getByLabel('Webhook URL').fill(app.url);
  await page.getByLabel('Media source').selectOption({ label: 'This browser' });
  await page.getByRole('checkbox', { name: 'Microphone' }).check();
  await page.getByRole('checkbox', { name: 'Camera' }).check();
  await page.getByRole('checkbox', { name: 'Screen share' }).uncheck();
  await page.getByRole('button', { name: 'Start Meeting' }).click();
  const m = await until(async () => (await mp.mock.api('GET', '/api/meetings')).body.meetings.find((x: any) => !before.has(x.meeting_uuid)), 'the new meeting');
  expect(m.source).toBe('browser');
  return m.meeting_uuid as string;
}

test('camera and microphone captured in the page reach an RTMS app as JPEG pictures and 440 Hz PCM', async () => {
  const app = await startReferenceApp({ log: false, events: [3] });
  mp.defer(() => app.stop());
  const uuid = await startBrowserMeeting(app);

  // The page shows the meeting, with this browser as a participant.
  await until(async () => (await meetingPanel(page, uuid).getByRole('group', { name: /from this page/ }).count()) === 1, 'the page\'s own participant in the meeting panel');

  // Enough media for a second of audio and a few frames.
  await until(() => received(app, MSG.VIDEO).length >= 3 && received(app, MSG.AUDIO).length >= 60, 'video and audio at the app', 15_000);
  const session = [...app.streams.values()][0]!;
  const params = session.mediaParams;

  // Video: JPEG at exactly the negotiated resolution, showing the fake camera's four quadrants.
  expect(params.video.codec).toBe(5); // JPG (the default)
  const [w, h] = SIZE[params.video.resolution as number]!;
  const frames = received(app, MSG.VIDEO);
  const last = Buffer.from(frames[frames.length - 1].content.data, 'base64');
  expect(jpegSize(last)).toEqual({ width: w, height: h });
  const pic = await decodeQuadrants(page, last);
  expect({ width: pic.width, height: pic.height }).toEqual({ width: w, height: h });
  const q = FAKE_VIDEO.quadrants;
  for (const k of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const) {
    expect(colourClose(pic.quadrants[k], q[k], 60), `${k}: got rgb(${pic.quadrants[k]}) want rgb(${q[k]})`).toBe(true);
  }
  // Every frame comes from the participant the page registered (user_name from the hello).
  expect(frames.every((f) => f.content.user_name === 'You (browser)')).toBe(true);

  // Audio: L16 at the negotiated rate, 20 ms per message, loud, and the fake microphone's 440 Hz tone.
  expect(params.audio.codec).toBe(1);
  const rate = RATE_HZ[params.audio.sample_rate as number]!;
  const audio = received(app, MSG.AUDIO);
  const samplesPerMsg = Buffer.from(audio[audio.length - 1].content.data, 'base64').byteLength / 2;
  expect(samplesPerMsg).toBe((rate * (params.audio.send_rate ?? 20)) / 1000);
  const pcm = pcmOf(audio.slice(-25)); // the last half second
  expect(rms(pcm)).toBeGreaterThan(0.05);
  expect(Math.abs(dominantHz(pcm, rate) - FAKE_AUDIO.frequencyHz)).toBeLessThanOrEqual(10);

  // What a person gets from their camera: the frame rate the app receives over 3 s of wall-clock time (frame
  // arrival jitters, so a count over a fixed window, ±1 frame) and the latency from capture (the page's stamp on
  // each frame) to the app. Measured and printed.
  // The mock runs in this test's process: the checks above stalled it for a moment, so let the queue drain first.
  const fps = params.video.fps as number;
  await Bun.sleep(1000);
  const from = received(app, MSG.VIDEO).length;
  const t0 = performance.now();
  await Bun.sleep(3000);
  const recs = session.messages.filter((m) => m.msg?.msg_type === MSG.VIDEO).slice(from);
  const elapsed = performance.now() - t0;
  const achievedFps = (recs.length * 1000) / elapsed;
  // Never more than the app asked for (±1 frame of jitter over the window); how close it gets to it is a figure,
  // printed below, not asserted: a starved machine encodes fewer frames and that is not the mock's doing.
  expect(recs.length).toBeLessThanOrEqual(Math.ceil((fps * elapsed) / 1000) + 1);
  expect(recs.length).toBeGreaterThanOrEqual(3);
  // Capture → mock send, from the mock's own per-participant figures; mock send (the message timestamp) → app.
  const me = (await mp.mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`)).body.participants.find((p: any) => p.ingest);
  const captureToSend = me.ingest.latency_ms.camera as { p50: number; p99: number; samples: number };
  expect(captureToSend.samples).toBeGreaterThanOrEqual(recs.length);
  const sendToApp = recs.map((r) => r.at - r.msg.content.timestamp).sort((a, b) => a - b);
  const p50 = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
  console.error(`[capture] camera at the app: ${achievedFps.toFixed(2)} fps (negotiated ${fps}); capture → mock send p50 ` +
    `${captureToSend.p50} ms, p99 ${captureToSend.p99} ms (${captureToSend.samples} frames); mock → app p50 ${p50(sendToApp)} ms; ` +
    `capture → app p50 about ${Math.round(captureToSend.p50 + p50(sendToApp))} ms`);

  await screenshot(page, 'capture-browser-meeting');
  expectCleanPage(mp);

  // Leaving from the page ends the participant (and frees the camera).
  await meetingPanel(page, uuid).getByRole('group', { name: /from this page/ }).getByRole('button', { name: 'Leave' }).click();
  await until(async () => (await mp.mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`)).body.participants.every((p: any) => !p.present), 'the participant gone');
  await mp.mock.api('DELETE', `/api/meetings/${encodeURIComponent(uuid)}`);
}, 30_000);

test('an app that negotiates H.264 gets Annex-B access units encoded in the page (SPS/PPS on key frames)', async () => {
  // H.264 HD at 10 fps for video (spec §8: codec 7, resolution 2).
  const app = await startReferenceApp({ log: false, mediaParams: { video: { codec: 7, resolution: 2, fps: 10, data_opt: 3, content_type: 3 } } });
  mp.defer(() => app.stop());
  const uuid = await startBrowserMeeting(app);
  await until(() => received(app, MSG.VIDEO).length >= 12, 'H.264 video at the app', 15_000);
  const session = [...app.streams.values()][0]!;
  expect(session.mediaParams.video.codec).toBe(7);
  const units = received(app, MSG.VIDEO).map((m) => new Uint8Array(Buffer.from(m.content.data, 'base64')));
  const types = units.map(nalTypes);
  // The first unit is a key frame with its parameter sets; later ones are slices (1) or more key frames (5).
  expect(types[0]).toEqual(expect.arrayContaining([7, 8, 5]));
  for (const t of types) expect(t.some((x) => x === 1 || x === 5)).toBe(true);
  for (const t of types) if (t.includes(5)) expect(t).toEqual(expect.arrayContaining([7, 8]));
  expectCleanPage(mp);
  await mp.mock.api('DELETE', `/api/meetings/${encodeURIComponent(uuid)}`);
}, 30_000);

test('without a WebCodecs H.264 encoder, the page encodes H.264 with ffmpeg.wasm (same Annex-B contract)', async () => {
  // The page's switch for the fallback (what browsers without an AVC VideoEncoder get).
  await page.evaluate(() => localStorage.setItem('rtms-mock:h264', 'ffmpeg'));
  await page.reload();
  try {
    const app = await startReferenceApp({ log: false, mediaParams: { video: { codec: 7, resolution: 1, fps: 10, data_opt: 3, content_type: 3 } } });
    mp.defer(() => app.stop());
    const uuid = await startBrowserMeeting(app);
    // ffmpeg.wasm loads (~1 s), then encodes one-second batches: the first access units arrive a little later.
    await until(() => received(app, MSG.VIDEO).length >= 12, 'H.264 from ffmpeg.wasm at the app', 20_000);
    const types = received(app, MSG.VIDEO).map((m) => nalTypes(new Uint8Array(Buffer.from(m.content.data, 'base64'))));
    expect(types[0]).toEqual(expect.arrayContaining([7, 8, 5]));
    for (const t of types) expect(t.some((x) => x === 1 || x === 5)).toBe(true);
    for (const t of types) if (t.includes(5)) expect(t).toEqual(expect.arrayContaining([7, 8]));
    await expectText(meetingPanel(page, uuid).getByRole('group', { name: /from this page/ }), /H\.264 via ffmpeg\.wasm/, 'the encoder named in the participant status');
    expectCleanPage(mp);
    await mp.mock.api('DELETE', `/api/meetings/${encodeURIComponent(uuid)}`);
  } finally {
    await page.evaluate(() => localStorage.removeItem('rtms-mock:h264'));
  }
}, 30_000);
