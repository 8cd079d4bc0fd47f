// The page's "Media file" source end to end (issue 3): a small committed clip (test/fixtures/clip.mp4: 2 s of
// four coloured quadrants and an 880 Hz tone, made by scripts/generate-test-clip.sh) is decoded in the page by
// ffmpeg.wasm served from the mock itself, with a progress bar, and played in real time as a participant; the
// reference RTMS app, connected over real sockets, must receive it as pictures and as audio.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startReferenceApp } from '../../src/client/reference-app.ts';
import { colourClose } from './helpers/fake-media.ts';
import { decodeQuadrants, dominantHz, jpegSize, pcmOf, received, rms } from './helpers/media-check.ts';
import { expectCleanPage, meetingPanel, openMockPage, screenshot, until, type MockPage } from './helpers/mock-page.ts';

const CLIP = fileURLToPath(new URL('../fixtures/clip.mp4', import.meta.url));
const CLIP_TONE_HZ = 880;
const CLIP_QUADRANTS = { topLeft: [255, 0, 0], topRight: [0, 255, 0], bottomLeft: [0, 0, 255], bottomRight: [255, 255, 0] } as const;
const MSG = { EVENT_UPDATE: 6, AUDIO: 14, VIDEO: 15 } as const;
const RATE_HZ = [8000, 16000, 32000, 48000];
const SIZE: Record<number, [number, number]> = { 1: [640, 360], 2: [1280, 720], 3: [1920, 1080], 4: [2560, 1440] };

let mp: MockPage;
let page: Page;

beforeAll(async () => {
  mp = await openMockPage();
  page = mp.page;
}, 30_000);

afterAll(async () => {
  await mp?.close();
});

test('a media file decoded by ffmpeg.wasm in the page reaches an RTMS app as pictures and 880 Hz audio', async () => {
  const app = await startReferenceApp({ log: false, events: [3] });
  mp.defer(() => app.stop());

  await page.getByLabel('Webhook URL').fill(app.url);
  await page.getByLabel('Media source').selectOption({ label: 'Media file' });
  await page.getByLabel('Audio or video file').setInputFiles(CLIP);
  // Record whether the progress bar showed while the page loaded ffmpeg.wasm and decoded the clip.
  await page.evaluate(() => {
    const box = document.getElementById('setup-progress')!;
    const w = window as unknown as { sawProgress: string[] };
    w.sawProgress = [];
    new MutationObserver(() => {
      const bar = box.querySelector('progress');
      if (!box.hidden && bar) w.sawProgress.push(`${bar.value.toFixed(2)} ${box.textContent?.trim()}`);
    }).observe(box, { attributes: true, childList: true, subtree: true, characterData: true });
  });
  await page.getByRole('button', { name: 'Start Meeting' }).click();

  const m = await until(async () => (await mp.mock.api('GET', '/api/meetings')).body.meetings[0], 'the meeting', 20_000);
  expect(m.source).toBe('file');
  const uuid = m.meeting_uuid as string;
  const progress = await page.evaluate(() => (window as unknown as { sawProgress: string[] }).sawProgress);
  expect(progress.some((p) => /ffmpeg\.wasm/.test(p))).toBe(true);
  expect(progress.some((p) => /Decoding (audio|video)/.test(p))).toBe(true);

  // The participant joined under the file's name (EVENT_UPDATE 3, PARTICIPANT_JOIN).
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === MSG.EVENT_UPDATE && o.msg.event?.event_type === 3 &&
    JSON.stringify(o.msg.event).includes('clip'), 10_000, { label: 'PARTICIPANT_JOIN of "clip"' }).catch(() => undefined);

  await until(() => received(app, MSG.VIDEO).length >= 4 && received(app, MSG.AUDIO).length >= 60, 'video and audio of the clip at the app', 15_000);
  const params = [...app.streams.values()][0]!.mediaParams;

  // Video: JPEG at the negotiated size showing the clip's quadrants.
  const [w, h] = SIZE[params.video.resolution as number]!;
  const frames = received(app, MSG.VIDEO);
  const last = Buffer.from(frames[frames.length - 1].content.data, 'base64');
  expect(jpegSize(last)).toEqual({ width: w, height: h });
  const pic = await decodeQuadrants(page, last);
  for (const k of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const) {
    expect(colourClose(pic.quadrants[k], CLIP_QUADRANTS[k], 60), `${k}: got rgb(${pic.quadrants[k]}) want rgb(${CLIP_QUADRANTS[k]})`).toBe(true);
  }
  expect(frames[frames.length - 1].content.user_name).toBe('clip');

  // Audio: the clip's tone at the negotiated rate, not silence.
  const rate = RATE_HZ[params.audio.sample_rate as number]!;
  const pcm = pcmOf(received(app, MSG.AUDIO).slice(-25));
  expect(rms(pcm)).toBeGreaterThan(0.05);
  expect(Math.abs(dominantHz(pcm, rate) - CLIP_TONE_HZ)).toBeLessThanOrEqual(10);

  // The page shows the file participant with its preview, and made no request outside the machine.
  await until(async () => (await meetingPanel(page, uuid).getByRole('group', { name: /clip \(from this page\)/ }).count()) === 1, 'the file participant in the panel');
  await screenshot(page, 'media-file-meeting');
  expectCleanPage(mp);
  await mp.mock.api('DELETE', `/api/meetings/${encodeURIComponent(uuid)}`);
}, 30_000);
