// --credentials FILE: a broken file stops start-up with a message naming the file and the field (README,
// "Pointing an existing app at it"); a good one is used, from the flag or from RTMS_MOCK_CREDENTIALS.
import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, runCli, startCli } from './cli-process.ts';

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'rtms-cli-creds-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
afterEach(killAll);

const good = {
  auth_credentials: [
    { client_id: 'client-one', client_secret: 'secret-one' },
    { client_id: 'client-two', client_secret: 'secret-two' },
  ],
  stream_meeting_info: [{ meeting_uuid: 'm1', rtms_stream_id: 's1' }],
  Zoom_Webhook_Secret_Token: [{ token: 'a-test-token' }],
};

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const BROKEN: [string, unknown, RegExp][] = [
  ['not JSON', '{"auth_credentials": [', /not valid JSON/],
  ['empty file', '', /not valid JSON/],
  ['top-level array', [], /field "\(top level\)": Invalid input: expected object, received array/],
  ['missing client_secret', { ...good, auth_credentials: [{ client_id: 'x' }] }, /field "auth_credentials\.0\.client_secret": Invalid input: expected string, received undefined/],
  ['client_secret of the wrong type', { ...good, auth_credentials: [{ client_id: 'x', client_secret: 42 }] }, /field "auth_credentials\.0\.client_secret": Invalid input: expected string, received number/],
  ['empty client_id', { ...good, auth_credentials: [{ client_id: '', client_secret: 'y' }] }, /field "auth_credentials\.0\.client_id": client_id must not be empty/],
  ['no client pairs', { ...good, auth_credentials: [] }, /field "auth_credentials": at least one \{client_id, client_secret\} pair is needed/],
  ['missing secret token', { auth_credentials: good.auth_credentials }, /field "Zoom_Webhook_Secret_Token": Invalid input: expected array, received undefined/],
  ['secret token list empty', { ...good, Zoom_Webhook_Secret_Token: [] }, /field "Zoom_Webhook_Secret_Token": the webhook secret token is needed/],
  ['stream info of the wrong type', { ...good, stream_meeting_info: [{ meeting_uuid: 'm', rtms_stream_id: 7 }] }, /field "stream_meeting_info\.0\.rtms_stream_id": Invalid input: expected string, received number/],
];

for (const [name, content, message] of BROKEN) {
  test(`a broken credentials file stops start-up: ${name}`, async () => {
    const path = file(`${name.replaceAll(' ', '-')}.json`, content);
    const r = await runCli(['--port', '0', '--media-port', '0', '--credentials', path], {}, 5000);
    expect(r.stderr).toContain(`rtms-mock: ${path}: `); // names the file…
    expect(r.stderr).toMatch(message); // …and the field and what is wrong with it
    expect(r.stdout).not.toContain('listening');
    expect(r.code).toBe(2);
  });
}

test('a credentials file that cannot be read names the file and how to point at another', async () => {
  const path = join(dir, 'does-not-exist.json');
  const r = await runCli(['--port', '0', '--media-port', '0', '--credentials', path], {}, 5000);
  expect(r.stderr).toBe(`rtms-mock: ${path}: cannot read the credentials file (ENOENT). Pass --credentials FILE or set RTMS_MOCK_CREDENTIALS.\n`);
  expect(r.code).toBe(2);
});

test('RTMS_MOCK_CREDENTIALS is read like --credentials (a broken file there fails the same way)', async () => {
  const path = file('env-broken.json', { ...good, Zoom_Webhook_Secret_Token: 'not-a-list' });
  const r = await runCli(['--port', '0', '--media-port', '0'], { RTMS_MOCK_CREDENTIALS: path }, 5000);
  expect(r.stderr).toMatch(new RegExp(`${path.replaceAll('.', '\\.')}: field "Zoom_Webhook_Secret_Token": Invalid input: expected array, received string`));
  expect(r.code).toBe(2);
});

test('a good file from RTMS_MOCK_CREDENTIALS is used; --credentials wins over it', async () => {
  const fromEnv = file('env-good.json', good);
  const fromFlag = file('flag-good.json', { ...good, auth_credentials: [good.auth_credentials[0]] });
  const a = await startCli(['--port', '0', '--media-port', '0'], { RTMS_MOCK_CREDENTIALS: fromEnv });
  await a.waitForOutput(/credentials: .*\(\d+ client\(s\)\)/);
  expect(a.output()).toContain(`credentials: ${fromEnv} (2 client(s))`);
  const b = await startCli(['--port', '0', '--media-port', '0', '--credentials', fromFlag], { RTMS_MOCK_CREDENTIALS: fromEnv });
  await b.waitForOutput(/credentials: .*\(\d+ client\(s\)\)/);
  expect(b.output()).toContain(`credentials: ${fromFlag} (1 client(s))`);
  // Secrets are never logged.
  for (const out of [a.output(), b.output()]) {
    expect(out).not.toContain('secret-one');
    expect(out).not.toContain('a-test-token');
  }
  const health = await fetch(`${b.baseUrl}/health`);
  expect(health.status).toBe(200);
});
