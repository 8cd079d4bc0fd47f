// Stops that call for no reconnection (spec §6): the host stops the app (1 HOST_TRIGGERED, or another reason),
// the meeting ends (6 MEETING_ENDED), the app's authorisation fails (18 AUTHENTICATION_FAILURE). The reference
// app stays away; an app that treats the server's close as a drop reconnects and the verdict says so.
import { afterEach, describe, expect, test } from 'bun:test';
import { setup, signalingRequests, stateUpdates, teardown, until } from './harness.ts';

afterEach(teardown);

describe('terminal faults', () => {
  test.each([
    ['host_stop', {}, 1, 'HOST_TRIGGERED'],
    ['host_stop', { reason: 5 }, 5, 'HOST_DISABLED_APP'],
    ['meeting_end', {}, 6, 'MEETING_ENDED'],
    ['auth_failure', {}, 18, 'AUTHENTICATION_FAILURE'],
  ] as const)('%s %j → TERMINATED/STOPPED with %d, rtms_stopped; the reference app does not reconnect; verdict passes', async (type, options, reason, name) => {
    const h = await setup();
    const t0 = Date.now();
    const r = await h.inject({ type, options });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ class: 'terminal', state: 'done', activations: 1 });
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.body.payload).toEqual({ meeting_uuid: h.created.meeting_uuid, rtms_stream_id: h.created.rtms_stream_id, stop_reason: reason });
    await until(() => h.s.state === 'stopped', 2000, 'app stopped');
    expect(stateUpdates(h.s).at(-1)).toMatchObject({ state: 4, reason, stop_reason: reason });
    await Bun.sleep(150);
    expect(signalingRequests(h.s)).toHaveLength(1);
    const m = await h.meeting();
    expect(m.state).toBe(type === 'meeting_end' ? 'ended' : 'live');
    expect(m.streams[0].stop_reason).toBe(reason);
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'no_reconnect_after_stop').detail).toBe(`stopped (reason ${reason} ${name}); no handshake afterwards`);
  });

  test.each([
    ['host_stop', 1, 'HOST_TRIGGERED'],
    ['meeting_end', 6, 'MEETING_ENDED'],
    ['auth_failure', 18, 'AUTHENTICATION_FAILURE'],
  ] as const)('%s against an app that reconnects after a stop: refused (status 2), no_reconnect_after_stop fails', async (type, reason, name) => {
    const h = await setup({ app: { ignoreStop: true } });
    const t0 = Date.now();
    await h.inject({ type });
    await h.webhook('meeting.rtms_stopped', t0);
    await until(() => h.s.messages.some((m) => m.msg?.msg_type === 2 && m.msg.status_code === 2), 3000, 'refused reconnect');
    const v = await h.verdict();
    expect(v.passed).toBe(false);
    expect(v.checks.find((c: any) => c.name === 'no_reconnect_after_stop')).toMatchObject({
      passed: false, detail: `1 handshake (signaling) after the stream stopped with reason ${reason} ${name}: the app must not reconnect after a stop`,
    });
  });

  test('delay_ms schedules it: scheduled, then done; a reconnection window open at that time ends as "ended by a stop"', async () => {
    const h = await setup({ app: { reconnect: false } });
    const r = await h.inject({ type: 'auth_failure', delay_ms: 300 });
    expect(r.body).toMatchObject({ state: 'scheduled', schedule: { mode: 'once', delay_ms: 300 } });
    await h.inject({ type: 'drop_media' });
    const stopped = await h.webhook('meeting.rtms_stopped');
    expect(stopped.body.payload.stop_reason).toBe(18);
    const rc = await h.check('reconnected_after_interruptions');
    expect(rc).toMatchObject({ passed: true, detail: expect.stringMatching(/media \(fault #\d+ drop_media\) ended by a stop/) });
  });
});
