// Keep-alive faults and keep-alive / CLIENT_READY_ACK verdicts (spec §3.4, §4.1): the mock stops honouring the
// app's answers (three misses drop the socket, stop reason 24 without a reconnect), the mock stops sending
// keep-alives (nothing to answer, the stream lives on), and apps that do not answer or do not send msg 7.
import { afterEach, describe, expect, test } from 'bun:test';
import { setup, teardown, until } from './harness.ts';

afterEach(teardown);

const keepAlives = (msgs: { socket: string; msg: any; at: number }[], socket = 'signaling') => msgs.filter((m) => m.socket === socket && m.msg?.msg_type === 12);

describe('keepalive_ignore: the mock stops honouring KEEP_ALIVE_RESP (spec §4.1)', () => {
  test('reference app: signaling dropped after three misses, rtms_interrupted, reconnected; keep-alive check still passes (the app did answer)', async () => {
    const h = await setup();
    const t0 = Date.now();
    const r = await h.inject({ type: 'keepalive_ignore' });
    expect(r.body).toMatchObject({ class: 'mode', state: 'active', on: true, options: { sockets: 'signaling' } });
    expect(r.body.history.at(-1).detail).toMatch(/on: ignoring keep-alive answers on #\d+/);
    await h.webhook('meeting.rtms_interrupted', t0);
    await until(() => h.s.handshakes === 2 && h.media().filter((m) => m.at > t0 + 500).length > 3, 4000, 'reconnected');
    const m = await h.meeting();
    // The new connection is honoured: the fault is done once the targeted connections are gone.
    expect(m.faults.past[0]).toMatchObject({ type: 'keepalive_ignore', state: 'done' });
    expect(m.faults.past[0].hits).toBeGreaterThanOrEqual(3);
    expect(m.log.some((e: any) => /signaling keep-alive timeout/.test(e.text))).toBe(true);
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'reconnected_after_interruptions').detail).toMatch(/signaling \(keep-alive timeout, answers ignored by a fault\) reconnected/);
    expect(v.checks.find((c: any) => c.name === 'keep_alive_answered').passed).toBe(true);
  });

  test('an app that does not reconnect: stopped with 24 KEEP_ALIVE_TIMEOUT after the window; verdict fails', async () => {
    const h = await setup({ app: { reconnect: false }, meeting: { speed: 100 } }); // keep-alive 100 ms, window 600 ms
    const t0 = Date.now();
    await h.inject({ type: 'keepalive_ignore', options: { sockets: 'both' } });
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.body.payload.stop_reason).toBe(24);
    expect(stopped.receivedAt - t0).toBeGreaterThanOrEqual(3 * 100 + 600 - 50);
    const v = await h.verdict();
    expect(v.passed).toBe(false);
    expect(v.checks.find((c: any) => c.name === 'reconnected_after_interruptions').passed).toBe(false);
    expect(v.checks.find((c: any) => c.name === 'keep_alive_answered').passed).toBe(true);
  });
});

describe('keepalive_stop: the mock stops sending KEEP_ALIVE_REQ', () => {
  test('no msg 12 while it lasts (duration_ms), then they come back; the stream and the verdict are unaffected', async () => {
    const h = await setup();
    await until(() => keepAlives(h.s.messages).length >= 1, 2000, 'a keep-alive');
    const r = await h.inject({ type: 'keepalive_stop', duration_ms: 700 });
    expect(r.body).toMatchObject({ state: 'active', on: true, schedule: { duration_ms: 700 } });
    const t0 = Date.now();
    await Bun.sleep(600);
    const during = h.s.messages.filter((m) => m.msg?.msg_type === 12 && m.at > t0 + 20);
    expect(during).toHaveLength(0);
    await until(() => keepAlives(h.s.messages).some((m) => m.at > t0 + 700), 2000, 'keep-alives again');
    const m = await h.meeting();
    expect(m.faults.past[0]).toMatchObject({ state: 'done', on: false });
    expect(m.faults.past[0].hits).toBeGreaterThanOrEqual(4); // two sockets, ~3 intervals each
    expect(m.streams[0]).toMatchObject({ stream_state: 1 });
    expect(m.streams[0].signaling.keep_alive.skipped).toBeGreaterThanOrEqual(2);
    expect(h.media().filter((x) => x.at > t0 && x.at < t0 + 600).length).toBeGreaterThan(20);
    expect((await h.verdict()).passed).toBe(true);
  });
});

describe('keep-alive and CLIENT_READY_ACK verdicts', () => {
  test('an app that does not answer keep-alives: keep_alive_answered fails, the socket is dropped (24)', async () => {
    const h = await setup({ app: { answerKeepAlive: false, reconnect: false }, meeting: { speed: 100 } });
    const t0 = Date.now();
    const stopped = await h.webhook('meeting.rtms_stopped', t0);
    expect(stopped.body.payload.stop_reason).toBe(24);
    const c = await h.check('keep_alive_answered');
    expect(c.passed).toBe(false);
    expect(c.detail).toMatch(/keep-alive requests? not answered before the next was due \(signaling #\d+: \d+ of \d+ late or unanswered/);
  });

  test('the reference app answers every keep-alive in time and acks after each handshake', async () => {
    const h = await setup();
    await until(() => keepAlives(h.s.messages).length >= 3, 2000, 'three keep-alives');
    const v = await h.verdict();
    expect(v.passed).toBe(true);
    expect(v.checks.find((c: any) => c.name === 'keep_alive_answered').detail).toMatch(/answered \d+ of \d+ keep-alive requests in time \(slowest \d+ ms\)/);
    expect(v.checks.find((c: any) => c.name === 'client_ready_ack').detail).toMatch(/sent after each of 1 handshake/);
    expect(v.thresholds).toEqual({ webhook_answer_ms: 2000, ready_ack_ms: 1000 });
  });

  test('an app that never sends CLIENT_READY_ACK: no media, client_ready_ack fails after the grace period', async () => {
    const h = await setup({ app: { sendReady: false }, waitMedia: false });
    await until(() => h.s.state === 'ready', 3000, 'handshakes done');
    const early = await h.check('client_ready_ack');
    expect(early).toMatchObject({ passed: true, detail: expect.stringMatching(/waiting/) });
    await Bun.sleep(1100); // the grace: one keep-alive interval, at least 1 s
    const c = await h.check('client_ready_ack');
    expect(c).toMatchObject({ passed: false, detail: expect.stringMatching(/no CLIENT_READY_ACK after the data handshake/) });
    expect(h.media()).toHaveLength(0);
  });
});
