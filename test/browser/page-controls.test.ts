// The page's meeting controls (issue 3), driven as a user would, by roles and accessible names, against a real
// mock and the reference RTMS app connected over real sockets. Each step checks what the app received (spec
// §4.2 state updates, §4.3 events, §7 media, §9 webhooks) and which buttons the page offers next.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Page } from 'playwright-core';
import { startReferenceApp, type Observation, type ReferenceApp } from '../../src/client/reference-app.ts';
import { expectCleanPage, meetingPanel, openMockPage, screenshot, type MockPage } from './helpers/mock-page.ts';
import { chooseMediaSource, expectEnabled, expectText, expectVisible, mediaSourceControl, mediaSourceOption } from './helpers/ui.ts';

// spec §2, §6
const MSG = { STREAM_STATE_UPDATE: 8, SESSION_STATE_UPDATE: 9, EVENT_UPDATE: 6, AUDIO: 14, CHAT: 18 } as const;
const STREAM = { ACTIVE: 1, TERMINATED: 4, PAUSED: 5, RESUMED: 6 } as const;
const SESSION = { STARTED: 2, PAUSED: 3, RESUMED: 4, STOPPED: 5 } as const;
const STOP = { HOST_TRIGGERED: 1, MEETING_ENDED: 6 } as const;
const EVENT = { PARTICIPANT_JOIN: 3, PARTICIPANT_LEAVE: 4 } as const;

let mp: MockPage;
let page: Page;
let app: ReferenceApp;
/** Filled in by the first test. */
let uuid = '';
let firstStream = '';
let secondStream = '';

beforeAll(async () => {
  mp = await openMockPage();
  page = mp.page;
  app = await startReferenceApp({ log: false, events: [EVENT.PARTICIPANT_JOIN, EVENT.PARTICIPANT_LEAVE] });
  mp.defer(() => app.stop());
}, 30_000);

afterAll(async () => {
  await mp?.close();
});

const panel = () => meetingPanel(page, uuid);
const button = (name: string) => panel().getByRole('button', { name, exact: true });

/** A message the app received on the signaling socket of `streamId`. */
function signaling(streamId: string, msgType: number, pred: (msg: any) => boolean = () => true, label = `msg ${msgType}`) {
  return app.waitFor(
    (o) => o.kind === 'message' && o.streamId === streamId && o.socket === 'signaling' && o.msg?.msg_type === msgType && pred(o.msg),
    8_000,
    { label },
  ) as Promise<Extract<Observation, { kind: 'message' }>>;
}

function webhook(event: string, pred: (body: any) => boolean = () => true) {
  return app.waitFor((o) => o.kind === 'webhook' && o.event === event && pred(o.body), 8_000, { label: event }) as Promise<
    Extract<Observation, { kind: 'webhook' }>
  >;
}

/** Messages of one msg_type the app received on any socket of a stream, so far. */
function received(streamId: string, msgType: number): number {
  return app.streams.get(streamId)?.counts[String(msgType)] ?? 0;
}

/** Waits until the app has received more of msgType on streamId than `than`. */
async function moreMedia(streamId: string, msgType: number, than: number, label: string): Promise<void> {
  await app.waitFor(
    () => received(streamId, msgType) > than,
    8_000,
    { label, includePast: false },
  );
}

/** Expects the five RTMS buttons in a given enabled/disabled pattern. */
async function expectButtons(state: Record<'Pause RTMS' | 'Resume RTMS' | 'Stop RTMS' | 'Start RTMS' | 'End Meeting', boolean>, when: string) {
  for (const [name, enabled] of Object.entries(state)) {
    await expectEnabled(button(name), enabled, `"${name}" ${when}`);
  }
}

describe('meeting controls on the page', () => {
  test('Media source offers Synthetic, This browser and Media file', async () => {
    await expectVisible(mediaSourceControl(page), 'the "Media source" control');
    for (const name of ['Synthetic', 'This browser', 'Media file']) {
      expect(await mediaSourceOption(page, name).count(), `option "${name}"`).toBe(1);
    }
  });

  test('Start Meeting (Synthetic): the app gets rtms_started, connects and receives media', async () => {
    await page.getByRole('textbox', { name: 'Webhook URL' }).fill(app.url);
    await chooseMediaSource(page, 'Synthetic');
    await page.getByRole('button', { name: 'Start Meeting', exact: true }).click();

    const started = await webhook('meeting.rtms_started');
    uuid = started.body.payload.meeting_uuid;
    firstStream = started.body.payload.rtms_stream_id;
    expect(uuid).toBeString();
    expect(firstStream).toBeString();
    await signaling(firstStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.ACTIVE, 'stream ACTIVE');
    await moreMedia(firstStream, MSG.AUDIO, 0, 'first audio');

    await expectVisible(panel(), `the meeting's panel (a region or article named with ${uuid})`);
    await expectButtons({ 'Pause RTMS': true, 'Resume RTMS': false, 'Stop RTMS': true, 'Start RTMS': false, 'End Meeting': true }, 'while streaming');
    await expectText(panel(), /\b(active|streaming|started)\b/i, 'the panel\'s state while streaming');
  }, 30_000);

  test('the main screen shows the live meeting (screenshot)', async () => {
    const path = await screenshot(page, 'main');
    expect(await Bun.file(path).exists()).toBe(true);
    // What test-output/screenshots/main.png shows, asserted from the same page: the setup form still holds the
    // app's URL and says where rtms_started went; the meeting's panel names the meeting, is badged "RTMS
    // streaming" with state "ACTIVE / session STARTED", and lists the three synthetic participants.
    expect(await page.getByRole('textbox', { name: 'Webhook URL' }).inputValue()).toBe(app.url);
    await expectText(page.getByRole('status').filter({ hasText: 'Meeting started' }), (t) => t.includes(`rtms_started sent to ${app.url}`), 'the setup status line');
    const text = (await panel().innerText()).replace(/\s+/g, ' ');
    expect(text).toContain(uuid);
    expect(text).toContain('RTMS streaming');
    expect(text).toContain('ACTIVE / session STARTED');
    const participants = (await mp.mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`)).body.participants as { user_id: number; user_name: string }[];
    expect(participants).toHaveLength(3);
    for (const p of participants) await expectVisible(panel().getByRole('group', { name: `${p.user_name} (${p.user_id})`, exact: true }), `participant ${p.user_name}`);
  });

  test('Pause RTMS: the app gets PAUSED (stream 5, session 3), media stops, no webhook (spec §4.2, §9)', async () => {
    const hooksBefore = app.webhooks.length;
    await button('Pause RTMS').click();
    await signaling(firstStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.PAUSED, 'stream PAUSED');
    await signaling(firstStream, MSG.SESSION_STATE_UPDATE, (m) => m.state === SESSION.PAUSED, 'session PAUSED');
    await expectButtons({ 'Pause RTMS': false, 'Resume RTMS': true, 'Stop RTMS': true, 'Start RTMS': false, 'End Meeting': true }, 'while paused');
    await expectText(panel(), /\bpaused\b/i, 'the panel\'s state while paused');
    // No media while paused: the count holds still (after anything already in flight landed).
    await Bun.sleep(150);
    const audio = received(firstStream, MSG.AUDIO);
    await Bun.sleep(500);
    expect(received(firstStream, MSG.AUDIO)).toBe(audio);
    // spec §9 has no pause webhook: none was sent.
    expect(app.webhooks.slice(hooksBefore).map((w) => w.event)).toEqual([]);
  }, 30_000);

  test('Resume RTMS: the app gets RESUMED (stream 6, session 4) and media again', async () => {
    const audio = received(firstStream, MSG.AUDIO);
    await button('Resume RTMS').click();
    await signaling(firstStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.RESUMED, 'stream RESUMED');
    await signaling(firstStream, MSG.SESSION_STATE_UPDATE, (m) => m.state === SESSION.RESUMED, 'session RESUMED');
    await moreMedia(firstStream, MSG.AUDIO, audio, 'audio after resume');
    await expectButtons({ 'Pause RTMS': true, 'Resume RTMS': false, 'Stop RTMS': true, 'Start RTMS': false, 'End Meeting': true }, 'after resume');
  }, 30_000);

  test('a participant leaves and joins again: EVENT_UPDATE 4 then 3 at the app (spec §4.3)', async () => {
    const participants = (await mp.mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`)).body.participants as { user_id: number; user_name: string }[];
    const who = participants[participants.length - 1]!;
    // Each participant is a group named "<name> (<user id>)" with its own buttons.
    const person = panel().getByRole('group', { name: `${who.user_name} (${who.user_id})`, exact: true });
    await person.getByRole('button', { name: 'Leave', exact: true }).click();
    const left = await signaling(firstStream, MSG.EVENT_UPDATE, (m) => m.event?.event_type === EVENT.PARTICIPANT_LEAVE, 'PARTICIPANT_LEAVE');
    expect(left.msg.event.participants).toEqual([{ user_id: who.user_id }]);

    await expectText(person, /\bleft\b/i, `${who.user_name} shown as having left`);
    await person.getByRole('button', { name: 'Join', exact: true }).click();
    const joined = await signaling(firstStream, MSG.EVENT_UPDATE, (m) => m.event?.event_type === EVENT.PARTICIPANT_JOIN && m.event.participants?.length === 1 && m.event.timestamp > left.msg.event.timestamp, 'PARTICIPANT_JOIN');
    expect(joined.msg.event.participants).toEqual([{ user_id: who.user_id, user_name: who.user_name }]);
  }, 30_000);

  test('a chat line typed on the page reaches the app as MEDIA_DATA_CHAT (spec §7)', async () => {
    const line = `hello from the page ${Date.now()}`;
    const from = panel().getByRole('combobox', { name: 'From', exact: true });
    const sender = (await from.evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '')).trim();
    await panel().getByRole('textbox', { name: 'Chat message', exact: true }).fill(line);
    await panel().getByRole('button', { name: 'Send chat', exact: true }).click();
    const chat = await app.waitFor((o) => o.kind === 'message' && o.streamId === firstStream && o.msg?.msg_type === MSG.CHAT && o.msg.content?.data === line, 8_000, { label: 'chat line' });
    expect(chat.kind === 'message' && chat.msg.content.user_name).toBe(sender);
  }, 30_000);

  test('Stop RTMS: TERMINATED with HOST_TRIGGERED, meeting.rtms_stopped (spec §4.2, §9)', async () => {
    await button('Stop RTMS').click();
    const state = await signaling(firstStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.TERMINATED, 'stream TERMINATED');
    expect(state.msg.reason).toBe(STOP.HOST_TRIGGERED);
    await signaling(firstStream, MSG.SESSION_STATE_UPDATE, (m) => m.state === SESSION.STOPPED, 'session STOPPED');
    const stopped = await webhook('meeting.rtms_stopped', (b) => b.payload.rtms_stream_id === firstStream);
    expect(stopped.body.payload).toMatchObject({ meeting_uuid: uuid, rtms_stream_id: firstStream, stop_reason: STOP.HOST_TRIGGERED });
    await expectButtons({ 'Pause RTMS': false, 'Resume RTMS': false, 'Stop RTMS': false, 'Start RTMS': true, 'End Meeting': true }, 'after stop');
  }, 30_000);

  test('Start RTMS: a new stream id, rtms_started again, media flows on it', async () => {
    await button('Start RTMS').click();
    const started = await webhook('meeting.rtms_started', (b) => b.payload.rtms_stream_id !== firstStream);
    secondStream = started.body.payload.rtms_stream_id;
    expect(started.body.payload.meeting_uuid).toBe(uuid);
    expect(secondStream).not.toBe(firstStream);
    await signaling(secondStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.ACTIVE, 'new stream ACTIVE');
    await moreMedia(secondStream, MSG.AUDIO, 0, 'audio on the new stream');
    await expectButtons({ 'Pause RTMS': true, 'Resume RTMS': false, 'Stop RTMS': true, 'Start RTMS': false, 'End Meeting': true }, 'on the new stream');
  }, 30_000);

  test('End Meeting: MEETING_ENDED on the stream, rtms_stopped, every control off', async () => {
    await button('End Meeting').click();
    const state = await signaling(secondStream, MSG.STREAM_STATE_UPDATE, (m) => m.state === STREAM.TERMINATED, 'stream TERMINATED');
    expect(state.msg.reason).toBe(STOP.MEETING_ENDED);
    const stopped = await webhook('meeting.rtms_stopped', (b) => b.payload.rtms_stream_id === secondStream);
    expect(stopped.body.payload.stop_reason).toBe(STOP.MEETING_ENDED);
    const meeting = (await mp.mock.api('GET', `/api/meetings/${encodeURIComponent(uuid)}`)).body;
    expect(meeting.state).toBe('ended');
    // An ended meeting offers no RTMS control: each button is disabled or gone (the panel may move out of view).
    const offered = async (name: string) => {
      try {
        return (await button(name).count()) > 0 && (await button(name).isEnabled({ timeout: 200 }));
      } catch {
        return false; // detached or hidden while we looked: not offered
      }
    };
    const names = ['Pause RTMS', 'Resume RTMS', 'Stop RTMS', 'Start RTMS', 'End Meeting'];
    const deadline = Date.now() + 5_000;
    let still: string[] = names;
    while (still.length && Date.now() < deadline) {
      still = [];
      for (const name of names) if (await offered(name)) still.push(name);
      if (still.length) await Bun.sleep(50);
    }
    expect(still, 'RTMS controls still enabled after End Meeting').toEqual([]);
    // The meetings list counts it among the ended ones.
    await expectText(page.getByRole('region', { name: 'Meetings', exact: true }), /ended meetings\s*\(1\)/i, 'the Meetings section after End Meeting');
  }, 30_000);

  test('the page made no request outside loopback and threw no error', () => {
    expectCleanPage(mp);
  });
});
