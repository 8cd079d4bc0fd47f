// `rtms-mock client`: argument handling, and a real run in a child process until SIGINT.
import { afterEach, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClientCommand } from '../../src/client/command.ts';
import { SAMPLE_CREDENTIALS } from '../../src/client/reference-app.ts';
import { type FakeRtmsServer, postWebhook, startFakeRtmsServer, startedBody } from './fake-rtms-server.ts';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('--help prints the usage and exits 0; a bad option exits 2', async () => {
  expect(await runClientCommand(['--help'])).toBe(0);
  expect(await runClientCommand(['--bogus'])).toBe(2);
  expect(await runClientCommand(['--media', 'some'])).toBe(2);
  expect(await runClientCommand(['--port'])).toBe(2);
});

/** Reads the child's stdout until `pattern` shows up. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: { text: string }, pattern: RegExp) {
  const decoder = new TextDecoder();
  const deadline = Date.now() + 5000;
  while (!pattern.test(seen.text)) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${seen.text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`process ended; output:\n${seen.text}`);
    seen.text += decoder.decode(value);
  }
  return pattern.exec(seen.text)!;
}

test('runs until SIGINT, prints the webhook URL, receives a stream and writes its media', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtms-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fake: FakeRtmsServer = await startFakeRtmsServer();
  cleanups.push(() => fake.stop());

  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'run-client.ts'), '--port', '0', '--out', dir], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ZM_RTMS_CLIENT: 'env-client', ZM_RTMS_SECRET: 'env-secret' },
  });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const reader = child.stdout.getReader();
  const out = { text: '' };
  const m = await readUntil(reader, out, /webhook URL: (http:\/\/localhost:(\d+)\/webhook)/);
  const url = m[1]!;

  // The sample secret token is the default; the env credentials sign the handshake.
  const res = await postWebhook(url, startedBody(fake.signalingUrl, 'cli-stream'), { secret: SAMPLE_CREDENTIALS.secretToken });
  expect(res.status).toBe(200);
  await fake.waitFor((r) => r.msg.msg_type === 13 && r.socket === 'all');
  const m1 = fake.received.find((r) => r.msg.msg_type === 1)!.msg;
  const { createHmac } = await import('node:crypto');
  expect(m1.signature).toBe(createHmac('sha256', 'env-secret').update(`env-client,${m1.meeting_uuid},cli-stream`).digest('hex'));
  // The CLI subscribes to every event type.
  expect(fake.received.find((r) => r.msg.msg_type === 5)!.msg.events.map((e: any) => e.event_type)).toEqual([2, 3, 4, 5, 6, 8, 9]);
  await readUntil(reader, out, /transcript Alice: Hello there\./);

  child.kill('SIGINT');
  expect(await child.exited).toBe(0);
  for (let r = await reader.read(); !r.done; r = await reader.read()) out.text += new TextDecoder().decode(r.value);
  expect(out.text).toContain('Stopping');
  expect(out.text).toContain('signaling handshake OK');
  expect(existsSync(join(dir, 'cli-stream.wav'))).toBe(true);
  expect(readFileSync(join(dir, 'cli-stream.transcript.txt'), 'utf8')).toContain('Alice: Hello there.');
  await Bun.sleep(20);
  expect(fake.sockets.size).toBe(0);
});
