// Command line: `rtms-mock [serve] [flags]` (default) and `rtms-mock client [flags]`. Every flag has an
// environment variable; --help lists both with their defaults.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMock, VERSION } from './app.ts';
import { DEFAULT_OPTIONS, type MockOptions } from './config/options.ts';
import { CredentialsError } from './config/credentials.ts';
import { embedded, embeddedAssets, versionLine } from './embedded.ts';
import { certificateHosts, defaultTlsDir, ensureLocalCertificate, loadTlsFiles, TlsSetupError, trustInstructions, type TlsMaterial } from './tls/local-ca.ts';
import { StopReason } from './protocol/enums.ts';
import { checkWebhookUrl } from './webhooks/webhook-url.ts';
import { checkBindAccess } from './control/access.ts';

/** data/ next to the sources (checkout) — overridable with --data-dir. The executable uses its embedded copy. */
export const BUNDLED_DATA_DIR = fileURLToPath(new URL('../data', import.meta.url));

/** The default data directory: the executable's embedded copy, or the checkout's data/. */
function defaultDataDir(): string {
  return embedded()?.dataDir ?? BUNDLED_DATA_DIR;
}

/** In the executable: a file or directory placed beside it, which overrides the embedded default. */
function besideExecutable(name: string, mustContain?: string): string | null {
  if (!embedded()) return null;
  const p = join(dirname(process.execPath), name);
  return existsSync(mustContain ? join(p, mustContain) : p) ? p : null;
}

export interface FlagSpec { flag: string; env: string; def: string; help: string; type: 'string' | 'boolean' }
export const FLAGS: FlagSpec[] = [
  { flag: 'port', env: 'RTMS_MOCK_PORT', def: String(DEFAULT_OPTIONS.port), help: 'HTTP port: web page, /api, /health, signaling WebSocket (/signaling, and / for the seed dialect); 0 = any free port', type: 'string' },
  { flag: 'media-port', env: 'RTMS_MOCK_MEDIA_PORT', def: String(DEFAULT_OPTIONS.mediaPort), help: 'media WebSocket port (/all /audio /video /deskshare /transcript /chat); 0 = any free port', type: 'string' },
  { flag: 'host', env: 'RTMS_MOCK_HOST', def: DEFAULT_OPTIONS.bindHost, help: 'address to listen on (loopback by default)', type: 'string' },
  { flag: 'public-host', env: 'RTMS_MOCK_PUBLIC_HOST', def: DEFAULT_OPTIONS.publicHost, help: 'host name put in the URLs handed to apps (server_urls)', type: 'string' },
  { flag: 'credentials', env: 'RTMS_MOCK_CREDENTIALS', def: 'rtms_credentials.json beside the executable, else <data-dir>/rtms_credentials.json, else the built-in sample credentials', help: "credentials file in the seed mock's format (client ids/secrets, webhook secret token)", type: 'string' },
  { flag: 'data-dir', env: 'RTMS_MOCK_DATA_DIR', def: 'data/ beside the executable, else the copy built into it (from the sources: <checkout>/data)', help: 'directory with the synthetic speech and video (speech/, video/ as in the repository)', type: 'string' },
  { flag: 'log-level', env: 'RTMS_MOCK_LOG_LEVEL', def: DEFAULT_OPTIONS.logLevel, help: 'debug, info, warn, error or silent', type: 'string' },
  { flag: 'webhook', env: 'RTMS_MOCK_WEBHOOK_URL', def: '(none)', help: "the app's webhook URL, used when a meeting is started without one", type: 'string' },
  { flag: 'start', env: 'RTMS_MOCK_START', def: 'false', help: 'start one meeting towards --webhook at boot (handy in CI)', type: 'boolean' },
  { flag: 'keepalive-ms', env: 'RTMS_MOCK_KEEPALIVE_MS', def: String(DEFAULT_OPTIONS.keepAliveMs), help: 'keep-alive interval on every socket (three unanswered drop it)', type: 'string' },
  { flag: 'webhook-timeout-ms', env: 'RTMS_MOCK_WEBHOOK_TIMEOUT_MS', def: String(DEFAULT_OPTIONS.webhookTimeoutMs), help: 'time an app has to answer a webhook before it is retried', type: 'string' },
  { flag: 'webhook-attempts', env: 'RTMS_MOCK_WEBHOOK_ATTEMPTS', def: String(DEFAULT_OPTIONS.webhookMaxAttempts), help: 'attempts per webhook (retries back off exponentially)', type: 'string' },
  { flag: 'lenient-signature', env: 'RTMS_MOCK_LENIENT_SIGNATURE', def: 'false', help: 'also accept the comma-less handshake signature of the seed README', type: 'boolean' },
  { flag: 'tls', env: 'RTMS_MOCK_TLS', def: 'false', help: 'serve both ports over TLS (https://, wss://) with a certificate for --public-host, localhost and 127.0.0.1 signed by a local CA made at first start', type: 'boolean' },
  { flag: 'tls-dir', env: 'RTMS_MOCK_TLS_DIR', def: '~/.rtms-mock/tls', help: 'where --tls keeps its CA (ca.pem: the file to trust) and server certificate, reused across starts', type: 'string' },
  { flag: 'tls-cert', env: 'RTMS_MOCK_TLS_CERT', def: '(none)', help: 'your own PEM certificate (chain) instead of the generated one; needs --tls-key, implies --tls', type: 'string' },
  { flag: 'tls-key', env: 'RTMS_MOCK_TLS_KEY', def: '(none)', help: 'the unencrypted PEM private key of --tls-cert', type: 'string' },
  { flag: 'api-token', env: 'RTMS_MOCK_API_TOKEN', def: '(none)', help: 'token the control API, the page and /ingest require (Authorization: Bearer, ?token=); needed for a non-loopback --host (16+ characters). Prefer the variable: flags show in ps', type: 'string' },
  { flag: 'max-connections', env: 'RTMS_MOCK_MAX_CONNECTIONS', def: String(DEFAULT_OPTIONS.maxConnections), help: 'WebSocket connections at once (signaling, media, ingest); more are closed with 1013 (ingest: 4429)', type: 'string' },
  { flag: 'max-connections-per-address', env: 'RTMS_MOCK_MAX_CONNECTIONS_PER_ADDRESS', def: String(DEFAULT_OPTIONS.maxConnectionsPerAddress), help: 'WebSocket connections at once from one remote address', type: 'string' },
  { flag: 'max-connections-per-meeting', env: 'RTMS_MOCK_MAX_CONNECTIONS_PER_MEETING', def: String(DEFAULT_OPTIONS.maxConnectionsPerMeeting), help: "sockets attached to one meeting (its streams' signaling and media, its ingest feeders)", type: 'string' },
  { flag: 'max-meetings', env: 'RTMS_MOCK_MAX_MEETINGS', def: String(DEFAULT_OPTIONS.maxMeetings), help: 'live meetings at once; POST /api/meetings beyond it answers 429', type: 'string' },
];

export function helpText(): string {
  const rows = FLAGS.map((f) => `  --${f.flag}${f.type === 'string' ? ' VALUE' : ''}\n      ${f.help}\n      env ${f.env}, default ${f.def}`);
  return `rtms-mock ${VERSION} — a local Zoom Realtime Media Streams (RTMS) server

Usage:
  rtms-mock [serve] [flags]      run the mock (default command)
  rtms-mock client [flags]       run the reference RTMS app (rtms-mock client --help)
  rtms-mock run SCENARIO --webhook URL [flags]
                                 play a scenario against an app, print the verdict, exit 0 if it passed
                                 (rtms-mock run --help, rtms-mock run --list)
  rtms-mock --version | --help

Flags (flags win over environment variables):
${rows.join('\n')}
  --help, -h      this text
  --version, -v   print the version and build

The single executable (bun run build) carries the web page, the synthetic media and the sample credentials;
a data/ directory or an rtms_credentials.json placed beside it, or the flags above, replace them.
With --tls, clients trust the generated CA with e.g. NODE_EXTRA_CA_CERTS=~/.rtms-mock/tls/ca.pem (printed at start).

Start a meeting:  curl -X POST localhost:9092/api/meetings -d '{"webhook_url":"http://localhost:8000/webhook"}'
API description:  http://localhost:9092/api/openapi.json`;
}

function fail(msg: string): never {
  console.error(`rtms-mock: ${msg}`);
  process.exit(2);
}

/** Flags whose value came from the environment in this run: their errors name the variable too. */
const fromEnv = new Set<string>();
/** A setting as named in an error: "--port", or "RTMS_MOCK_PORT (--port)" when the value came from the environment. */
function source(name: string): string {
  const env = FLAGS.find((f) => f.flag === name)?.env;
  return env && fromEnv.has(name) ? `${env} (--${name})` : `--${name}`;
}

function intFlag(name: string, v: string, min: number, max: number): number {
  // Digits only: Number() alone would take "" and " " as 0, and "0x50" or "1e3".
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(`${source(name)} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

/** A boolean flag or its variable: true/1/yes/on or false/0/no/off; anything else is an error rather than false. */
function boolFlag(name: string, v: string | undefined): boolean {
  const s = (v ?? 'false').trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off', ''].includes(s)) return false;
  fail(`${source(name)} must be true or false, got "${v}"`);
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
  if (values.version) { console.log(`rtms-mock ${versionLine(VERSION)}`); return 0; }
  const get = (f: string): string | undefined => {
    const spec = FLAGS.find((x) => x.flag === f)!;
    const v = values[f];
    if (v !== undefined) return String(v);
    const e = process.env[spec.env] || undefined;
    if (e !== undefined) fromEnv.add(f);
    return e;
  };
  const dataDir = get('data-dir') ?? besideExecutable('data', join('speech', 'transcript.json')) ?? defaultDataDir();
  if (!existsSync(dataDir)) fail(`data directory ${dataDir} does not exist (--data-dir / RTMS_MOCK_DATA_DIR): give a directory laid out like the repository's data/ (speech/, video/)`);
  const ownCredentials = join(dataDir, 'rtms_credentials.json');
  const opts: Partial<MockOptions> = {
    dataDir,
    credentialsPath: get('credentials') ?? besideExecutable('rtms_credentials.json')
      ?? (existsSync(ownCredentials) ? ownCredentials : join(defaultDataDir(), 'rtms_credentials.json')),
    bindHost: get('host') ?? DEFAULT_OPTIONS.bindHost,
    publicHost: get('public-host') ?? DEFAULT_OPTIONS.publicHost,
    port: intFlag('port', get('port') ?? String(DEFAULT_OPTIONS.port), 0, 65535),
    mediaPort: intFlag('media-port', get('media-port') ?? String(DEFAULT_OPTIONS.mediaPort), 0, 65535),
    keepAliveMs: intFlag('keepalive-ms', get('keepalive-ms') ?? String(DEFAULT_OPTIONS.keepAliveMs), 10, 3_600_000),
    webhookTimeoutMs: intFlag('webhook-timeout-ms', get('webhook-timeout-ms') ?? String(DEFAULT_OPTIONS.webhookTimeoutMs), 1, 600_000),
    webhookMaxAttempts: intFlag('webhook-attempts', get('webhook-attempts') ?? String(DEFAULT_OPTIONS.webhookMaxAttempts), 1, 20),
    lenientSignature: boolFlag('lenient-signature', get('lenient-signature')),
    apiToken: get('api-token') ?? null,
    maxConnections: intFlag('max-connections', get('max-connections') ?? String(DEFAULT_OPTIONS.maxConnections), 1, 1_000_000),
    maxConnectionsPerAddress: intFlag('max-connections-per-address', get('max-connections-per-address') ?? String(DEFAULT_OPTIONS.maxConnectionsPerAddress), 1, 1_000_000),
    maxConnectionsPerMeeting: intFlag('max-connections-per-meeting', get('max-connections-per-meeting') ?? String(DEFAULT_OPTIONS.maxConnectionsPerMeeting), 1, 1_000_000),
    maxMeetings: intFlag('max-meetings', get('max-meetings') ?? String(DEFAULT_OPTIONS.maxMeetings), 1, 1_000_000),
  };
  // Loopback by default; any other bind needs the API token (src/control/access.ts), checked before TLS files are made.
  const access = checkBindAccess(opts.bindHost!, opts.apiToken, { host: source('host'), token: source('api-token') });
  if (access) fail(access);
  const level = get('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) fail(`${source('log-level')} must be debug, info, warn, error or silent, got "${level}"`);
  opts.logLevel = level as MockOptions['logLevel'];
  let webhook = get('webhook') ?? null;
  if (webhook) {
    const c = checkWebhookUrl(webhook, source('webhook'));
    if (!c.ok) fail(c.error);
    webhook = c.url.toString();
  }
  const start = boolFlag('start', get('start'));
  if (start && !webhook) fail('--start needs --webhook URL (the app to send rtms_started to)');

  const tlsCert = get('tls-cert');
  const tlsKey = get('tls-key');
  if (Boolean(tlsCert) !== Boolean(tlsKey)) fail('--tls-cert and --tls-key go together: give both, or neither and --tls to use a generated certificate');
  let tls: TlsMaterial | null = null;
  try {
    if (tlsCert && tlsKey) tls = loadTlsFiles(tlsCert, tlsKey);
    else if (boolFlag('tls', get('tls'))) {
      const bind = opts.bindHost!;
      tls = await ensureLocalCertificate(get('tls-dir') ?? defaultTlsDir(), certificateHosts(opts.publicHost!, bind === '127.0.0.1' ? [] : [bind]));
    }
  } catch (e) {
    if (e instanceof TlsSetupError) fail(e.message);
    throw e;
  }

  let mock;
  try {
    mock = await createMock({
      ...opts,
      defaultWebhookUrl: webhook,
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      // The executable serves its embedded page (or the placeholder when built without one: never files of the
      // checkout it was built in); from the sources, createMock serves web/dist.
      ...(embedded() ? { assets: embeddedAssets() ?? { get: async () => null } } : {}),
    });
  } catch (e) {
    if (e instanceof CredentialsError) fail(e.message);
    fail((e as Error).message);
  }
  const log = mock.log;
  // Handlers first: whoever waits for the "listening" line and then signals must get the graceful stop.
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) { log.warn(`${sig} again: exiting now`); process.exit(130); }
    stopping = true;
    log.info(`${sig}: stopping every stream (press Ctrl-C again to exit at once)…`);
    void mock.stop({ reason: StopReason.EXIT_SIGNAL }).then(() => process.exit(0), (err) => {
      log.error(`shutdown failed: ${(err as Error).stack ?? err}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const [http, ws] = tls ? ['https', 'wss'] : ['http', 'ws'];
  log.info(`rtms-mock ${versionLine(VERSION)} listening: ${http}://${opts.publicHost}:${mock.port} (page, /api, signaling ${ws}://${opts.publicHost}:${mock.port}/signaling), media ${ws}://${opts.publicHost}:${mock.mediaPort}/{all,audio,video,deskshare,transcript,chat}`);
  const bundle = embedded();
  const isEmbedded = (p: string) => Boolean(bundle?.dataDir && p.startsWith(bundle.dataDir));
  log.info(`data: ${isEmbedded(dataDir) ? 'built into the executable' : dataDir}; page: ${bundle ? (bundle.webDir ? 'built into the executable' : 'placeholder (built without web/dist)') : 'web/dist'}`);
  log.info(`credentials: ${isEmbedded(opts.credentialsPath!) ? 'built-in sample credentials' : opts.credentialsPath} (${mock.engine.credentials.clients.length} client(s))`);
  if (tls?.caPath) {
    const made = tls.generated === 'ca' ? 'made now (new CA)' : tls.generated === 'server' ? 'made now' : 'reused';
    log.info(`TLS: certificate for ${tls.hosts.join(', ')} ${made}, signed by the local CA ${tls.caPath}`);
    for (const line of trustInstructions(tls.caPath)) log.info(`TLS: ${line}`);
  } else if (tls) {
    log.info(`TLS: certificate ${tls.certPath}, key ${tls.keyPath}`);
  }
  if (start && webhook) {
    const { meeting, stream } = mock.engine.createMeeting({ webhookUrl: webhook });
    log.info(`started meeting ${meeting.uuid} stream ${stream?.id} towards ${webhook}`);
  }
  return await new Promise<number>(() => {});
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'run') {
    const { runScenarioCommand } = await import('./scenario/run-command.ts');
    return runScenarioCommand(rest);
  }
  if (first === 'client') {
    const { runClientCommand } = await import('./client/command.ts');
    return runClientCommand(rest);
  }
  if (first === 'serve') return runServe(rest);
  if (first && !first.startsWith('-')) fail(`unknown command "${first}": use serve or client, or run SCENARIO (rtms-mock --help)`);
  return runServe(argv);
}
