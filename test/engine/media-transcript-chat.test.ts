// Transcripts, chat and active-speaker events as an app receives them over real sockets (spec §4.3, §7, §8),
// checked against data/speech/transcript.json relative to the meeting's media origin (created_at). Each
// session has its own in-process mock and a clock the test moves (test/helpers/rtms-session.ts).
import { afterEach, describe, expect, test } from 'bun:test';
import { until } from '../helpers/driven-app.ts';
import { LiveSessions, jumpTo, offsetNow, settled, type Live, type LiveOptions } from '../helpers/live-session.ts';
import { D, SCRIPT, SPEAKER, events, ofType, offsetOf, speakerAt, speakerChangesIn } from '../helpers/rtms-session.ts';
import type { Received } from '../helpers/ws-client.ts';

const sessions = new LiveSessions();
const live = (offset: number, o?: LiveOptions) => sessions.open(offset, o);
afterEach(() => sessions.stopAll());

/** Mock time of arrival. The scheduler runs tasks due within 0.5 ms (scheduler.ts), hence the 1 ms allowance. */
const arrival = (l: Live, r: Received) => l.clock.toMock(r.at) + 1;

/** Moves the clock to loop offset `to` (may exceed D) in steps inside the keep-alive interval; waits for delivery. */
async function walk(l: Live, to: number, step = 2000): Promise<void> {
  const target = l.m.createdAt + to;
  while (l.clock.now() < target) {
    l.clock.jump(Math.min(step, target - l.clock.now()));
    await Bun.sleep(15);
    await until(() => settled(l), 5000, 'media delivered');
  }
  await Bun.sleep(20); // signaling (events) has no counter to wait on; it is sent before the media of a tick
}

const byKey = (key: string) => SPEAKER[key]!;
const ALICE = SPEAKER.alice!;
const BOB = SPEAKER.bob!;

/** The transcript message an app must get for utterance `u` of loop `loop` (spec §7 msg 17). */
function expectedTranscript(createdAt: number, u: (typeof SCRIPT.utterances)[number], loop = 0) {
  const start = createdAt + loop * D + u.start_ms;
  return {
    msg_type: 17,
    content: {
      user_id: byKey(u.speaker).user_id, user_name: byKey(u.speaker).user_name, data: u.text,
      timestamp: start, start_time: start, end_time: createdAt + loop * D + u.end_ms, language: 9,
    },
  };
}

describe('spec §7/§8 transcripts', () => {
  test('spec §8 real time: the utterance\'s transcript arrives when it ends, with start/end/language/speaker of transcript.json', async () => {
    const l = await live(SCRIPT.utterances[0]!.end_ms - 1500, { mediaType: 8, path: 'transcript' }); // alice 400-3685
    // A slow handshake (a busy machine) starts the stream later than asked: watch the next utterance still to end.
    const u = SCRIPT.utterances.find((x) => x.end_ms - 300 > offsetNow(l))!;
    jumpTo(l, u.end_ms - 300);
    expect(l.s.resp.media_params).toEqual({ transcript: { content_type: 5, src_language: 9, enable_lid: true } });
    const msg = await l.s.media.next((x) => x?.msg_type === 17, 3000, 'transcript');
    expect(msg).toEqual(expectedTranscript(l.m.createdAt, u));
    // Not before the utterance has ended (mock time of arrival), and about then.
    const r = ofType(l.s.media, 17)[0]!;
    expect(arrival(l, r)).toBeGreaterThanOrEqual(msg.content.end_time);
    expect(arrival(l, r)).toBeLessThan(msg.content.end_time + 1000);
  });

  test('spec §8 a whole loop and into the next: one transcript per utterance, in order, none early; times relative to the media origin', async () => {
    const l = await live(0, { mediaType: 8, path: 'transcript' });
    await walk(l, D + 4000);
    const rs = ofType(l.s.media, 17);
    const want = [...SCRIPT.utterances.map((u) => expectedTranscript(l.m.createdAt, u)), expectedTranscript(l.m.createdAt, SCRIPT.utterances[0]!, 1)];
    expect(rs.map((r) => r.msg)).toEqual(want);
    for (const r of rs) expect(arrival(l, r)).toBeGreaterThanOrEqual(r.msg.content.end_time);
  });

  test('spec §8 transcripts line up with the audio that carries the speech (multi-stream audio on the same socket)', async () => {
    const l = await live(0, { mediaType: 1 | 8, path: 'all', mediaParams: { audio: { data_opt: 2 } } });
    await walk(l, D - 500);
    const audio = ofType(l.s.media, 14);
    const problems: string[] = [];
    for (const r of ofType(l.s.media, 17)) {
      const c = r.msg.content;
      const mine = audio.filter((a) => a.msg.content.user_id === c.user_id).map((a) => a.msg.content.timestamp as number);
      // 20 ms frames: the first one holding start_time, the last one holding end_time - 1, none just outside.
      const first = c.start_time - ((c.start_time - l.m.createdAt) % 20);
      const last = c.end_time - 1 - ((c.end_time - 1 - l.m.createdAt) % 20);
      if (!mine.includes(first) || !mine.includes(last)) problems.push(`${c.user_name} ${c.start_time}-${c.end_time}: audio frames missing at the edges`);
      if (mine.includes(first - 20) || mine.includes(last + 20)) problems.push(`${c.user_name} ${c.start_time}-${c.end_time}: audio outside the utterance`);
      for (let t = first; t <= last; t += 20) if (!mine.includes(t)) { problems.push(`${c.user_name}: no audio at ${t - l.m.createdAt}`); break; }
    }
    expect(ofType(l.s.media, 17).length).toBe(SCRIPT.utterances.length);
    expect(problems).toEqual([]);
  });

  test('spec §8 a short stall loses nothing: a chat line and a transcript 8 ms apart both arrive after the loop was blocked', async () => {
    // transcript.json: bob's chat line at 12500 and the end of his utterance at 12508. Block the process (the mock
    // runs in it) across both, as a synchronous JPG/PNG render for another app's handshake does; real clock only.
    const chat = SCRIPT.chat.find((c) => c.at_ms === 12500)!;
    const u = SCRIPT.utterances.find((x) => x.end_ms === 12508)!;
    const l = await live(11000, { mediaType: 8 | 16, path: 'all' });
    jumpTo(l, 12450); // the timers this re-arms cannot run before the busy wait below ends
    const end = l.m.createdAt + 12560;
    while (l.clock.now() < end) { /* busy: the event loop is stalled */ }
    const t = await l.s.media.next((x) => x?.msg_type === 17, 3000, 'transcript after the stall');
    expect(t).toEqual(expectedTranscript(l.m.createdAt, u));
    expect(ofType(l.s.media, 18).map((r) => r.msg.content)).toEqual([
      { user_id: byKey(chat.speaker).user_id, user_name: byKey(chat.speaker).user_name, data: chat.text, timestamp: l.m.createdAt + chat.at_ms },
    ]);
  });

  test('spec §8 a participant who left: no transcript and no chat line of theirs', async () => {
    const l = await live(0, {
      mediaType: 8 | 16, path: 'all',
      before: async (mock, m) => {
        const r = await mock.api('POST', `/api/meetings/${encodeURIComponent(m.meeting_uuid)}/participants/${BOB.user_id}/leave`);
        expect(r.status).toBe(200);
      },
    });
    await walk(l, D - 500);
    const senders = (t: number) => new Set(ofType(l.s.media, t).map((r) => r.msg.content.user_id));
    expect(senders(17)).toEqual(new Set(SCRIPT.utterances.filter((u) => u.speaker !== 'bob').map((u) => byKey(u.speaker).user_id)));
    expect(ofType(l.s.media, 17).length).toBe(SCRIPT.utterances.filter((u) => u.speaker !== 'bob').length);
    expect(senders(18).has(BOB.user_id)).toBe(false);
    expect(ofType(l.s.media, 18).length).toBe(SCRIPT.chat.filter((c) => c.speaker !== 'bob').length);
  });
});

describe('spec §4.3 active speaker', () => {
  test('spec §4.3 real time: ACTIVE_SPEAKER_CHANGE when the next speaker of transcript.json starts', async () => {
    const next = SCRIPT.utterances[1]!; // bob from 4035
    const l = await live(next.start_ms - 1500, { mediaType: 8, path: 'transcript', events: [2] });
    jumpTo(l, next.start_ms - 400);
    const e = await l.s.sig.next((x) => x?.msg_type === 6 && x.event?.event_type === 2 && x.event.user_id === byKey(next.speaker).user_id, 3000, 'speaker change');
    expect(e.event).toEqual({ event_type: 2, timestamp: expect.any(Number), user_id: BOB.user_id, user_name: BOB.user_name });
    expect(e.event.timestamp).toBeGreaterThanOrEqual(l.m.createdAt + next.start_ms);
    expect(e.event.timestamp).toBeLessThan(l.m.createdAt + next.start_ms + 500);
    // The roster on activation named the speaker of that moment (README decision): alice.
    expect(events(l.s.sig, 2)[0]!.msg.event).toMatchObject({ user_id: ALICE.user_id, user_name: ALICE.user_name });
  });

  test('spec §4.3 over a whole loop the events follow who is talking, crosstalk included (newest voice), and only when subscribed', async () => {
    const [sub, unsub] = await Promise.all([
      live(2000, { mediaType: 8, path: 'transcript', events: [2] }),
      live(2000, { mediaType: 8, path: 'transcript' }),
    ]);
    await Promise.all([walk(sub, D + 5000), walk(unsub, D + 5000)]);
    const got = events(sub.s.sig, 2).map((r) => r.msg.event.user_name);
    const want = [speakerAt(2000), ...speakerChangesIn(2000, D).map((c) => c.speaker), ...speakerChangesIn(0, 5000).map((c) => c.speaker)].map((s) => s.user_name);
    expect(got).toEqual(want);
    // Crosstalk: bob starts (18222) while carol still talks (to 18822); he is the newest voice.
    expect(got).toContain(BOB.user_name);
    expect(events(unsub.s.sig, 2)).toEqual([]);
    // Every event carries the speaker's id and name (spec §4.3).
    for (const r of events(sub.s.sig, 2)) {
      const s = SCRIPT.speakers.find((x) => x.user_name === r.msg.event.user_name)!;
      expect(r.msg.event.user_id).toBe(s.user_id);
    }
  });
});

describe('spec §7/§8 chat', () => {
  test('spec §8 real time: a chat line of the dialogue arrives at its time with its sender', async () => {
    const c = SCRIPT.chat[0]!; // bob at 5500
    const l = await live(c.at_ms - 1500, { mediaType: 16, path: 'chat' });
    jumpTo(l, c.at_ms - 250);
    expect(l.s.resp.media_params).toEqual({ chat: { content_type: 5 } });
    const msg = await l.s.media.next((x) => x?.msg_type === 18, 3000, 'chat');
    expect(msg).toEqual({ msg_type: 18, content: { user_id: byKey(c.speaker).user_id, user_name: byKey(c.speaker).user_name, data: c.text, timestamp: l.m.createdAt + c.at_ms } });
    const r = ofType(l.s.media, 18)[0]!;
    expect(arrival(l, r)).toBeGreaterThanOrEqual(msg.content.timestamp);
    expect(arrival(l, r)).toBeLessThan(msg.content.timestamp + 1000);
  });

  test('spec §8 every chat line of transcript.json, once per loop, in order, with sender and loop time', async () => {
    const l = await live(0, { mediaType: 16, path: 'chat' });
    await walk(l, D + 6000);
    const want = [...SCRIPT.chat.map((c) => ({ c, loop: 0 })), { c: SCRIPT.chat[0]!, loop: 1 }].map(({ c, loop }) => ({
      msg_type: 18,
      content: { user_id: byKey(c.speaker).user_id, user_name: byKey(c.speaker).user_name, data: c.text, timestamp: l.m.createdAt + loop * D + c.at_ms },
    }));
    const rs: Received[] = ofType(l.s.media, 18);
    expect(rs.map((r) => r.msg)).toEqual(want);
    expect(rs.every((r) => arrival(l, r) >= r.msg.content.timestamp)).toBe(true);
    expect(rs.every((r) => offsetOf(r.msg.content.timestamp, l.m.createdAt) === SCRIPT.chat.find((c) => c.text === r.msg.content.data)!.at_ms)).toBe(true);
  });
});
