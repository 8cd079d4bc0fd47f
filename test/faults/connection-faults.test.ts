// Connection faults against the reference app (which must recover) and against a variant that does not
// reconnect (the verdict must say so): signaling dropped (spec §4.1: rtms_interrupted, 60 s window), media
// dropped (event 7, state 2/14, 30 s window) and a server failover (§9: rtms_started again, old sockets closed).
import { afterEach, describe, expect, test } from 'bun:test';
import { MEDIA_WINDOW_MS, SIGNALING_WINDOW_MS, setup, signaling, signalingRequests, stateUpdates, teardown, until } from './harness.ts';

afterEach(teardown);

describe('drop_signaling (spec §4.1)', () => {
  test('reference app: rtms_interrupted, INTERRUPTED, both handshakes redone in the window, media resumes; verdict passes', async () => {
    const h = await setup();
    const cut = h.s.messages.length;
    const t0 = Date.now();
    const r = await h.inject({ type: 'drop_signaling' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: expect.any(Number), type: 'drop_signaling', class: 'action', state: 'done', activations: 1, options: { code: 1001 } });

    const intr = await h.webhook('meeting.rtms_interrupted', t0);
    expect(intr.body.payload).toEqual({ meeting_uuid: h.created.meeting_uuid, rtms_stream_id: h.created.rtms_stream_id });
    const closed = await until(() => h.s.closes.find((c) => c.socket === 'signaling' && !c.byClient && c.at >= t0), 2000, 'signaling close');
    expect(closed.code).toBe(1001);
    // Media sockets are told why (2/13) and closed with their signaling.
    expect(h.s.messages.slice(cut).some((m) => m.socket === 'all' && m.msg.msg_type === 8 && m.msg.state === 2 && m.msg.reason === 13)).toBe(true);

    await until(() => h.s.handshakes === 2 && h.media().filter((m) => m.at > t0).length >= 5, 4000, 'reconnected with media');
    const m = await h.meeting();
    expect(m.streams[0]).toMatchObject({ stream_state: 1, stop_reason: null, history: { interruptions: 1, reconnections: 1 } });
    expect(m.faults.past[0]).toMatchObject({ type: 'drop_signaling', state: 'done' });
    expect(m.log.some((e: any) => e.socket === 'fault' && /fault #\d+ drop_signaling: signaling socket #\d+ closed/.test(e.text))).toBe(true);

    const v = await h.verdict();
    expect(v.passed).toBe(true);
    const rc = v.checks.find((c: any) => c.name === 'reconnected_after_interruptions');
    expect(rc.detail).toMatch(/signaling \(fault #\d+ drop_signaling\) reconnected in \d+ ms of 1200, media resumed/);
    expect(v.checks.map((c: any) => c.name)).toEqual(['keep_alive_answered', 'client_ready_ack', 'reconnected_after_interruptions',
      'no_reconnect_after_stop', 'no_second_concurrent_stream', 'media_consumed', 'webhooks_answered']);
    expect(v.streams).toHaveLength(1);
  });

  test('an app that does not reconnect: stopped with 19 after the window; verdict fails reconnected_after_interruptions', async () => {
    const h = await setup({ app: { reconnect: false } });
    const t0 = Date.now();
    expect((await h.inject({ type: 'drop_signaling', options: { code: 4000 } })).status).toBe(201);
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.receivedAt - t0).toBeGreaterThanOrEqual(SIGNALING_WINDOW_MS - 50);
    expect(stopped.body.payload.stop_reason).toBe(19);
    expect(h.s.closes.find((c) => c.socket === 'signaling')?.code).toBe(4000);
    const v = await h.verdict();
    expect(v.passed).toBe(false);
    const rc = v.checks.find((c: any) => c.name === 'reconnected_after_interruptions');
    expect(rc).toMatchObject({ passed: false, detail: expect.stringMatching(/signaling \(fault #\d+ drop_signaling\): not reconnected within the 1200 ms window/) });
    expect(v.checks.filter((c: any) => !c.passed).map((c: any) => c.name)).toEqual(['reconnected_after_interruptions']);
  });

  test('every_ms: dropped twice (count 2), each time reconnected; the fault lists both activations', async () => {
    const h = await setup();
    const r = await h.inject({ type: 'drop_signaling', every_ms: 500, count: 2 });
    expect(r.body).toMatchObject({ state: 'active', schedule: { mode: 'every', every_ms: 500, count: 2 } });
    await until(async () => (await h.meeting()).faults.past.length === 1, 4000, 'fault done');
    await until(() => h.s.handshakes === 3, 3000, 'third handshake');
    const f = (await h.meeting()).faults.past[0];
    expect(f).toMatchObject({ activations: 2, state: 'done' });
    expect(f.history.filter((x: any) => /closed/.test(x.detail))).toHaveLength(2);
    const rc = await h.check('reconnected_after_interruptions');
    expect(rc).toMatchObject({ passed: true, detail: expect.stringMatching(/^2 interruptions:/) });
  });
});

describe('drop_media (spec §4.1)', () => {
  test('reference app: event 7 and state 2/14 on signaling, a new data handshake in the window; verdict passes', async () => {
    const h = await setup({ app: { mediaMode: 'split' } });
    const cut = h.s.messages.length;
    const t0 = Date.now();
    const r = await h.inject({ type: 'drop_media', options: { path: 'transcript' } });
    expect(r.status).toBe(201);
    expect(r.body.history.at(-1).detail).toMatch(/media socket \/transcript #\d+ closed \(1001\); 600 ms for a new data handshake/);
    await until(() => signaling(h.s, cut).some((m) => m.msg_type === 8 && m.state === 1), 3000, 'ACTIVE again');
    const sig = signaling(h.s, cut).filter((m) => m.msg_type === 6 || m.msg_type === 8);
    expect(sig[0]).toMatchObject({ msg_type: 6, event: { event_type: 7 } });
    expect(sig[1]).toMatchObject({ msg_type: 8, state: 2, reason: 14 });
    expect(h.s.closes.some((c) => c.socket === 'transcript' && c.code === 1001 && c.at >= t0)).toBe(true);
    expect(h.s.sockets.has('signaling')).toBe(true);
    const m = await h.meeting();
    expect(m.streams[0].history).toMatchObject({ signalingHandshakes: 1, dataHandshakes: 3, reconnections: 1 });
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'reconnected_after_interruptions').detail).toMatch(/media \(fault #\d+ drop_media\) reconnected/);
    expect(h.app.webhooks.map((w) => w.event)).toEqual(['meeting.rtms_started']);
  });

  test('an app that does not reconnect media: stop 19 after the media window; verdict fails', async () => {
    const h = await setup({ app: { reconnect: false } });
    const t0 = Date.now();
    await h.inject({ type: 'drop_media' });
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.receivedAt - t0).toBeGreaterThanOrEqual(MEDIA_WINDOW_MS - 50);
    expect(stopped.body.payload.stop_reason).toBe(19);
    expect(stateUpdates(h.s).at(-1)).toMatchObject({ state: 4, reason: 19 });
    expect(await h.check('reconnected_after_interruptions')).toMatchObject({ passed: false, detail: expect.stringMatching(/media \(fault #\d+ drop_media\): not reconnected within the 600 ms window/) });
  });

  test('probability per opportunity (every keep-alive interval): with a random source below p it fires at the first one', async () => {
    const h = await setup();
    h.mock.engine.faults.random = () => 0.1;
    const r = await h.inject({ type: 'drop_media', probability: 0.2, count: 1 });
    expect(r.body).toMatchObject({ state: 'active', schedule: { mode: 'probability', probability: 0.2, count: 1 } });
    await until(async () => (await h.meeting()).faults.past[0]?.activations === 1, 2000, 'fired');
    await until(async () => (await h.meeting()).streams[0].history.reconnections === 1, 3000, 'media reconnected');
    expect((await h.verdict()).passed).toBe(true);
  });
});

describe('duplicate_started: server failover (spec §9)', () => {
  test('reference app: old sockets closed (1001), rtms_started again without rtms_interrupted, both handshakes redone; verdict passes', async () => {
    const h = await setup();
    const t0 = Date.now();
    const r = await h.inject({ type: 'duplicate_started' });
    expect(r.body.history.at(-1).detail).toMatch(/old sockets closed \(1001\); rtms_started sent again/);
    const again = await h.webhook('meeting.rtms_started', t0);
    expect(again.body.payload).toMatchObject({ meeting_uuid: h.created.meeting_uuid, rtms_stream_id: h.created.rtms_stream_id, server_urls: h.created.server_urls });
    expect(again.rawBody).not.toBe(h.app.webhooks[0]!.rawBody); // a new event, not a retry
    await until(() => h.s.handshakes === 2 && h.media().filter((m) => m.at > t0 + 50).length >= 3, 4000, 'reconnected after failover');
    // The mock closed the old signaling itself (the app may have closed its side too once the webhook came).
    expect((await h.meeting()).log.some((e: any) => e.socket === 'signaling' && /socket closed \(1001 server failover\)/.test(e.text))).toBe(true);
    expect(signalingRequests(h.s)).toHaveLength(2);
    expect(h.app.webhooks.some((w) => w.event === 'meeting.rtms_interrupted')).toBe(false);
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'reconnected_after_interruptions').detail).toMatch(/failover \(fault #\d+ duplicate_started\) reconnected/);
  });

  test('an app that ignores rtms_started for a live stream: stop 19 after the window; verdict fails', async () => {
    const h = await setup({ app: { reconnect: false } });
    const t0 = Date.now();
    await h.inject({ type: 'duplicate_started' });
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.body.payload.stop_reason).toBe(19);
    expect(await h.check('reconnected_after_interruptions')).toMatchObject({ passed: false, detail: expect.stringMatching(/failover \(fault #\d+ duplicate_started\): not reconnected/) });
  });
});
