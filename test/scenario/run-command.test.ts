// `rtms-mock run` as a real child process against the reference app in this process (loopback): a passing
// app exits 0 with a passing verdict; an app that does not answer keep-alives exits 1 naming the failed check;
// usage and scenario errors exit 2. Every child and app is stopped after each test.
import { afterEach, expect, test } from 'bun:test';
import { startReferenceApp, type ReferenceApp } from '../../src/client/reference-app.ts';
import { killAll, runCli } from '../cli/cli-process.ts';

let app: ReferenceApp | null = null;
afterEach(async () => {
  await killAll();
  await app?.stop();
  app = null;
});

test('rtms-mock run one-on-one --webhook … --speed 20 against the reference app exits 0 with a passing verdict', async () => {
  app = await startReferenceApp({ log: false, events: [2, 3, 4, 5, 6, 8, 9] });
  const r = await runCli(['run', 'one-on-one', '--webhook', app.url, '--speed', '20'], {}, 20_000);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('scenario one-on-one (meeting, 2 participants, seed 11) at speed 20');
  expect(r.stdout).toContain('30 of 30 happenings (finished)');
  expect(r.stdout).toMatch(/stream [0-9a-f]{8} stopped \(reason 6 MEETING_ENDED\)/);
  expect(r.stdout).toContain('verdict: PASSED');
  expect(r.stdout).toMatch(/ok {3}keep_alive_answered/);
  expect(r.stdout).not.toContain('FAIL');
  // The app got the scenario: its transcripts, chat and roster.
  const s = [...app.streams.values()][0]!;
  const transcripts = s.messages.filter((m) => m.msg.msg_type === 17).map((m) => m.msg.content.data);
  expect(transcripts).toContain('Did the login fix make it in?');
  expect(transcripts).toHaveLength(8);
  expect(s.messages.some((m) => m.msg.msg_type === 18)).toBe(true);
  expect(s.stopReason).toBe(6);
}, 30_000);

test('against an app that does not answer keep-alives it exits 1 and names the failed check (JSON output too)', async () => {
  app = await startReferenceApp({ log: false, mediaTypes: 1 | 8, answerKeepAlive: false });
  const r = await runCli(['run', 'one-on-one', '--webhook', app.url, '--speed', '20', '--json'], {}, 20_000);
  expect(r.code).toBe(1);
  const result = JSON.parse(r.stdout);
  expect(result.passed).toBe(false);
  expect(result.failed).toContain('keep_alive_answered');
  expect(result.checks.find((c: { name: string }) => c.name === 'keep_alive_answered').detail).toMatch(/not answered before the next was due/);
  expect(result.checks.find((c: { name: string }) => c.name === 'app_connected').passed).toBe(true);
  expect(result.scenario.name).toBe('one-on-one');
}, 30_000);

test('usage and scenario errors exit 2 with a message; --list shows the library', async () => {
  const none = await runCli(['run', 'one-on-one']);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('--webhook URL is required');
  const unknown = await runCli(['run', 'nope', '--webhook', 'http://127.0.0.1:9/webhook']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('no such scenario: not a file, and not in the library (contact-center-call, one-on-one, soak, standup, video-sdk-session, webinar)');
  const speed = await runCli(['run', 'one-on-one', '--webhook', 'http://127.0.0.1:9/webhook', '--speed', 'fast']);
  expect(speed.code).toBe(2);
  expect(speed.stderr).toContain('--speed must be a number');
  const list = await runCli(['run', '--list']);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^soak +meeting +3600 s {2}One hour/m);
  expect(list.stdout.trim().split('\n')).toHaveLength(6);
}, 30_000);
