// Control endpoints the web page uses on synthetic meetings: make someone the active speaker, start and stop a
// share (spec §4.3 events 2, 5, 6). Overrides hold until the dialogue's next change; the mock's clock is moved
// (WarpClock) to the interesting points of the 27 s dialogue instead of waiting for them.
import { afterEach, expect, test } from 'bun:test';
import { startMock, type TestMock } from '../helpers/mock.ts';
import {
  D, SCRIPT, SPEAKER, WarpClock, closeAll, meetingAtOffset, meetingInfo, ofType, openSession, speakerAt, speakerChangesIn,
} from '../helpers/rtms-session.ts';

let mock: TestMock | null = null;
afterEach(async () => {
  closeAll();
  await mock?.stop({ graceful: false });
  mock = null;
});

const eventOf = (type: number) => (m: any) => m?.msg_type === 6 && m.event.event_type === type;

/** Loop offsets of every happening of the dialogue (speaker changes, transcripts, chat, share start/stop). */
const HAPPENINGS = [...new Set([
  ...speakerChangesIn(0, D).map((c) => c.at), ...SCRIPT.utterances.map((u) => u.end_ms), ...SCRIPT.chat.map((c) => c.at_ms), 1000, D - 1000,
])].sort((a, b) => a - b);

/**
 * Moves the mock's clock to `offset` of the dialogue one happening at a time, so each one fires as it would in
 * real time (a single big jump would let the meeting skip the ones in between).
 */
async function advanceTo(clock: WarpClock, createdAt: number, offset: number): Promise<void> {
  const from = clock.now() - createdAt;
  for (const t of [...HAPPENINGS.filter((h) => h > from && h < offset), offset]) {
    clock.jump(Math.max(0, createdAt + t + 5 - clock.now()));
    await Bun.sleep(15);
  }
}

test('speak, share-start and share-stop send their events and override the dialogue until its next change', async () => {
  const clock = new WarpClock();
  mock = await startMock({ clock });
  // 4.1 s in: Bob has just started talking (the next change is ~4 s away) and Carol's share (1 s … D−1 s) is on.
  const offset = 4100;
  const m = await meetingAtOffset(mock, clock, 0);
  await advanceTo(clock, m.createdAt, offset);
  const path = `/api/meetings/${encodeURIComponent(m.meeting_uuid)}/participants`;
  const s = await openSession(mock, { meeting: m, mediaType: 4, events: [2, 5, 6], mediaParams: { deskshare: { codec: 5, resolution: 1, fps: 5 } } });
  const carol = SPEAKER.carol!;
  const alice = SPEAKER.alice!;
  expect((await s.sig.next(eventOf(5), 3000, 'roster share')).event).toMatchObject({ user_id: carol.user_id });
  expect((await s.media.next((x) => x?.msg_type === 16, 3000, 'share frame')).content.user_id).toBe(carol.user_id);

  // speak: someone who is neither talking now nor next in the dialogue becomes the active speaker.
  const now = speakerAt(offset);
  const next = speakerChangesIn(offset, D)[0]!;
  const who = SCRIPT.speakers.find((p) => p.user_id !== now.user_id && p.user_id !== next.speaker.user_id)!;
  const sp = await mock.api('POST', `${path}/${who.user_id}/speak`);
  expect(sp.status).toBe(200);
  expect(sp.body).toMatchObject({ ok: true, user_id: who.user_id, active_speaker: true });
  expect((await s.sig.next(eventOf(2), 2000, 'ACTIVE_SPEAKER_CHANGE')).event).toMatchObject({ user_id: who.user_id, user_name: who.user_name });
  expect((await meetingInfo(mock, m.meeting_uuid)).active_speaker).toEqual({ user_id: who.user_id, user_name: who.user_name });
  expect((await mock.api('POST', `${path}/${who.user_id}/speak`)).status).toBe(409);
  expect((await mock.api('POST', `${path}/424242/speak`)).status).toBe(404);

  // share-start: Carol's share stops, Alice's starts, and the share frames are Alice's.
  const r = await mock.api('POST', `${path}/${alice.user_id}/share-start`);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ ok: true, user_id: alice.user_id, sharing: true });
  expect((await s.sig.next(eventOf(6), 2000, 'SHARING_STOP')).event.event_type).toBe(6);
  expect((await s.sig.next(eventOf(5), 2000, 'SHARING_START')).event).toMatchObject({ user_id: alice.user_id, user_name: alice.user_name });
  await s.media.next((x) => x?.msg_type === 16 && x.content.user_id === alice.user_id, 3000, "Alice's share frame");
  expect((await meetingInfo(mock, m.meeting_uuid)).sharing).toEqual({ user_id: alice.user_id, user_name: alice.user_name });
  expect((await mock.api('POST', `${path}/${alice.user_id}/share-start`)).status).toBe(409);

  // share-stop: SHARING_STOP and no more share frames.
  expect((await mock.api('POST', `${path}/${carol.user_id}/share-stop`)).status).toBe(409); // Carol is not sharing
  expect((await mock.api('POST', `${path}/${alice.user_id}/share-stop`)).status).toBe(200);
  await s.sig.next(eventOf(6), 2000, 'SHARING_STOP');
  expect((await meetingInfo(mock, m.meeting_uuid)).sharing).toBeNull();
  await Bun.sleep(200);
  const frames = ofType(s.media, 16).length;
  await Bun.sleep(300);
  expect(ofType(s.media, 16).length).toBe(frames);

  // The dialogue's next speaker change takes over again.
  await advanceTo(clock, m.createdAt, next.at + 20);
  expect((await s.sig.next(eventOf(2), 2000, 'dialogue speaker')).event).toMatchObject({ user_id: next.speaker.user_id });
  expect((await meetingInfo(mock, m.meeting_uuid)).active_speaker.user_id).toBe(next.speaker.user_id);
  // The dialogue's share_stop (D − 1 s) repeats "no share": no duplicate SHARING_STOP.
  const stops = s.sig.received.filter((x) => eventOf(6)(x.msg)).length;
  await advanceTo(clock, m.createdAt, D - 1000 + 20);
  await Bun.sleep(50);
  expect(s.sig.received.filter((x) => eventOf(6)(x.msg)).length).toBe(stops);
}, 15000);
