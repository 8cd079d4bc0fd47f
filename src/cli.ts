// Command line: `rtms-mock [serve] [flags]` (default) and `rtms-mock client [flags]`. Every flag has an
// environment variable; --help lists both with their defaults.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMock, VERSION } from './app.ts';
import { DEFAULT_OPTIONS, type MockOptions } from './config/options.ts';
import { CredentialsError } from './config/credentials.ts';
import { StopReason } from './protocol/enums.ts';
import { checkWebhookUrl } from './webhooks/webhook-url.ts';

/** data/ next to the sources (checkout) — overridable with --data-dir. */
export const BUNDLED_DATA_DIR = fileURLToPath(new URL('../data', import.meta.url));

interface FlagSpec { flag: string; env: string; def: string; help: string; type: 'string' | 'boolean' }
const FLAGS: FlagSpec[] = [
  { flag: 'port', env: 'RTMS_MOCK_PORT', def: String(DEFAULT_OPTIONS.port), help: 'HTTP port: web page, /api, /health, signaling WebSocket (/signaling, and / for the seed dialect); 0 = any free port', type: 'string' },
  { flag: 'media-port', env: 'RTMS_MOCK_MEDIA_PORT', def: String(DEFAULT_OPTIONS.mediaPort), help: 'media WebSocket port (/all /audio /video /deskshare /transcript /chat); 0 = any free port', type: 'string' },
  { flag: 'host', env: 'RTMS_MOCK_HOST', def: DEFAULT_OPTIONS.bindHost, help: 'address to listen on (loopback by default)', type: 'string' },
  { flag: 'public-host', env: 'RTMS_MOCK_PUBLIC_HOST', def: DEFAULT_OPTIONS.publicHost, help: 'host name put in the URLs handed to apps (server_urls)', type: 'string' },
  { flag: 'credentials', env: 'RTMS_MOCK_CREDENTIALS', def: '<data-dir>/rtms_credentials.json', help: "credentials file in the seed mock's format (client ids/secrets, webhook secret token)", type: 'string' },
  { flag: 'data-dir', env: 'RTMS_MOCK_DATA_DIR', def: '<checkout>/data', help: 'directory with the synthetic speech and video', type: 'string' },
  { flag: 'log-level', env: 'RTMS_MOCK_LOG_LEVEL', def: DEFAULT_OPTIONS.logLevel, help: 'debug, info, warn, error or silent', type: 'string' },
  { flag: 'webhook', env: 'RTMS_MOCK_WEBHOOK_URL', def: '(none)', help: "the app's webhook URL, used when a meeting is started without one", type: 'string' },
  { flag: 'start', env: 'RTMS_MOCK_START', def: 'false', help: 'start one meeting towards --webhook at boot (handy in CI)', type: 'boolean' },
  { flag: 'keepalive-ms', env: 'RTMS_MOCK_KEEPALIVE_MS', def: String(DEFAULT_OPTIONS.keepAliveMs), help: 'keep-alive interval on every socket (three unanswered drop it)', type: 'string' },
  { flag: 'webhook-timeout-ms', env: 'RTMS_MOCK_WEBHOOK_TIMEOUT_MS', def: String(DEFAULT_OPTIONS.webhookTimeoutMs), help: 'time an app has to answer a webhook before it is retried', type: 'string' },
  { flag: 'webhook-attempts', env: 'RTMS_MOCK_WEBHOOK_ATTEMPTS', def: String(DEFAULT_OPTIONS.webhookMaxAttempts), help: 'attempts per webhook (retries back off exponentially)', type: 'string' },
  { flag: 'lenient-signature', env: 'RTMS_MOCK_LENIENT_SIGNATURE', def: 'false', help: 'also accept the comma-less handshake signature of the seed README', type: 'boolean' },
];

export function helpText(): string {
  const rows = FLAGS.map((f) => `  --${f.flag}${f.type === 'string' ? ' VALUE' : ''}\n      ${f.help}\n      env ${f.env}, default ${f.def}`);
  return `rtms-mock ${VERSION} — a local Zoom Realtime Media Streams (RTMS) server

Usage:
  rtms-mock [serve] [flags]      run the mock (default command)
  rtms-mock client [flags]       run the reference RTMS app (rtms-mock client --help)
  rtms-mock --version | --help

Flags (flags win over environment variables):
${rows.join('\n')}
  --help, -h      this text
  --version, -v   print the version

Start a meeting:  curl -X POST localhost:9092/api/meetings -d '{"webhook_url":"http://localhost:8000/webhook"}'
API description:  http://localhost:9092/api/openapi.json`;
}

function fail(msg: string): never {
  console.error(`rtms-mock: ${msg}`);
  process.exit(2);
}

function intFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

export async function runServe(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(FLAGS.map((f) => [f.flag, { type: f.type }])),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    fail(`${(e as Error).message}. See rtms-mock --help.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) { console.log(helpText()); return 0; }
  if (values.version) { console.log(`rtms-mock ${VERSION}`); return 0; }
  const get = (f: string): string | undefined => {
    const spec = FLAGS.find((x) => x.flag === f)!;
    const v = values[f];
    if (v !== undefined) return String(v);
    return process.env[spec.env] || undefined;
  };
  const dataDir = get('data-dir') ?? BUNDLED_DATA_DIR;
  if (!existsSync(dataDir)) fail(`data directory ${dataDir} does not exist (--data-dir)`);
  const opts: Partial<MockOptions> = {
    dataDir,
    credentialsPath: get('credentials') ?? join(dataDir, 'rtms_credentials.json'),
    bindHost: get('host') ?? DEFAULT_OPTIONS.bindHost,
    publicHost: get('public-host') ?? DEFAULT_OPTIONS.publicHost,
    port: intFlag('port', get('port') ?? String(DEFAULT_OPTIONS.port), 0, 65535),
    mediaPort: intFlag('media-port', get('media-port') ?? String(DEFAULT_OPTIONS.mediaPort), 0, 65535),
    keepAliveMs: intFlag('keepalive-ms', get('keepalive-ms') ?? String(DEFAULT_OPTIONS.keepAliveMs), 10, 3_600_000),
    webhookTimeoutMs: intFlag('webhook-timeout-ms', get('webhook-timeout-ms') ?? String(DEFAULT_OPTIONS.webhookTimeoutMs), 1, 600_000),
    webhookMaxAttempts: intFlag('webhook-attempts', get('webhook-attempts') ?? String(DEFAULT_OPTIONS.webhookMaxAttempts), 1, 20),
    lenientSignature: (get('lenient-signature') ?? 'false') === 'true',
  };
  const level = get('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) fail(`--log-level must be debug, info, warn, error or silent, got "${level}"`);
  opts.logLevel = level as MockOptions['logLevel'];
  let webhook = get('webhook') ?? null;
  if (webhook) {
    const c = checkWebhookUrl(webhook, '--webhook');
    if (!c.ok) fail(c.error);
    webhook = c.url.toString();
  }
  const start = (get('start') ?? 'false') === 'true';
  if (start && !webhook) fail('--start needs --webhook URL (the app to send rtms_started to)');

  let mock;
  try {
    mock = await createMock({ ...opts, defaultWebhookUrl: webhook });
  } catch (e) {
    if (e instanceof CredentialsError) fail(e.message);
    fail((e as Error).message);
  }
  const log = mock.log;
  log.info(`rtms-mock ${VERSION} listening: http://${opts.publicHost}:${mock.port} (page, /api, signaling ws://${opts.publicHost}:${mock.port}/signaling), media ws://${opts.publicHost}:${mock.mediaPort}/{all,audio,video,deskshare,transcript,chat}`);
  log.info(`credentials: ${opts.credentialsPath} (${mock.engine.credentials.clients.length} client(s))`);
  if (start && webhook) {
    const { meeting, stream } = mock.engine.createMeeting({ webhookUrl: webhook });
    log.info(`started meeting ${meeting.uuid} stream ${stream?.id} towards ${webhook}`);
  }
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) { log.warn(`${sig} again: exiting now`); process.exit(130); }
    stopping = true;
    log.info(`${sig}: stopping every stream (press Ctrl-C again to exit at once)…`);
    void mock.stop({ reason: StopReason.EXIT_SIGNAL }).then(() => process.exit(0));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return await new Promise<number>(() => {});
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'client') {
    const { runClientCommand } = await import('./client/command.ts');
    return runClientCommand(rest);
  }
  if (first === 'serve') return runServe(rest);
  if (first && !first.startsWith('-')) fail(`unknown command "${first}": use serve or client (rtms-mock --help)`);
  return runServe(argv);
}
