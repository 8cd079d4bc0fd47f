// `rtms-mock run SCENARIO --webhook URL`: starts a private mock (any free ports, loopback), plays one scenario
// against the app, prints a summary and the verdict (src/engine/verdict.ts), and exits 0 when the app passed
// every check, 1 when it failed one (or never connected), 2 on a usage or scenario error: a CI gate.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMock, loadMedia, type MockHandle } from '../app.ts';
import { DEFAULT_OPTIONS } from '../config/options.ts';
import type { MediaConnection, SignalingConnection } from '../engine/connection.ts';
import { MAX_SPEED, MIN_SPEED } from '../engine/timing.ts';
import { meetingVerdict, type VerdictCheck } from '../engine/verdict.ts';
import { embedded } from '../embedded.ts';
import { MsgType, StopReason, nameOf } from '../protocol/enums.ts';
import { checkWebhookUrl } from '../webhooks/webhook-url.ts';
import { planSummary } from './compile.ts';
import { dialogueInfo } from './dialogue.ts';
import { listLibrary, resolveScenario, scenarioDir } from './library.ts';
import { ScenarioError } from './parse.ts';
import { Prng } from './prng.ts';
import { startScenario } from './runner.ts';

export const RUN_USAGE = `Usage: rtms-mock run SCENARIO --webhook URL [options]

Plays SCENARIO against the RTMS app at URL and exits with a summary and the verdict: 0 when the app passed
every check, 1 when it failed one (or never connected), 2 for a usage or scenario error. SCENARIO is a file
(.yaml, .yml, .json) or a name from the library (rtms-mock run --list). The mock listens on free loopback
ports; the app learns the URLs from the rtms_started webhook.

Options:
  --webhook URL           the app's webhook endpoint (env RTMS_MOCK_WEBHOOK_URL)
  --speed N               time factor: the timeline, keep-alives, reconnection windows and webhook retries run
                          N times faster (default: the scenario's speed, usually 1)
  --seed N                replace the scenario's seed (every random choice follows it)
  --connect-timeout-ms N  time the app has to connect and send CLIENT_READY_ACK (default 30000)
  --json                  print the summary and the verdict as one JSON object
  --list                  list the library and exit
  --port N, --media-port N, --host H, --public-host H, --credentials FILE, --data-dir DIR,
  --keepalive-ms N, --webhook-timeout-ms N, --webhook-attempts N, --lenient-signature
                          as for rtms-mock serve (ports default to 0: any free port)
  --log-level LEVEL       the mock's log on stderr: debug, info, warn (default), error, silent
  --help                  this text
`;

class UsageError extends Error {}

function defaultDataDir(): string {
  return embedded()?.dataDir ?? fileURLToPath(new URL('../../data', import.meta.url));
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

interface RunArgs {
  scenario: string | null;
  webhook: string | null;
  speed: number | undefined;
  seed: number | undefined;
  connectTimeoutMs: number;
  json: boolean;
  list: boolean;
  help: boolean;
  dataDir: string;
  mock: Parameters<typeof createMock>[0];
}

function parseRunArgs(argv: string[]): RunArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        webhook: { type: 'string' }, speed: { type: 'string' }, seed: { type: 'string' }, 'connect-timeout-ms': { type: 'string' },
        json: { type: 'boolean' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        port: { type: 'string' }, 'media-port': { type: 'string' }, host: { type: 'string' }, 'public-host': { type: 'string' },
        credentials: { type: 'string' }, 'data-dir': { type: 'string' }, 'keepalive-ms': { type: 'string' },
        'webhook-timeout-ms': { type: 'string' }, 'webhook-attempts': { type: 'string' }, 'lenient-signature': { type: 'boolean' },
        'log-level': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. See rtms-mock run --help.`);
  }
  const v = parsed.values;
  if (parsed.positionals.length > 1) throw new UsageError(`one scenario at a time, got ${parsed.positionals.join(', ')}`);
  let speed: number | undefined;
  if (v.speed !== undefined) {
    speed = Number(v.speed);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(v.speed) || !(speed >= MIN_SPEED && speed <= MAX_SPEED)) throw new UsageError(`--speed must be a number from ${MIN_SPEED} to ${MAX_SPEED}, got "${v.speed}"`);
  }
  const level = v['log-level'] ?? 'warn';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn, error or silent, got "${level}"`);
  const dataDir = v['data-dir'] ?? process.env.RTMS_MOCK_DATA_DIR ?? defaultDataDir();
  if (!existsSync(dataDir)) throw new UsageError(`data directory ${dataDir} does not exist (--data-dir)`);
  const credentials = v.credentials ?? process.env.RTMS_MOCK_CREDENTIALS ?? join(dataDir, 'rtms_credentials.json');
  return {
    scenario: parsed.positionals[0] ?? null,
    webhook: v.webhook ?? process.env.RTMS_MOCK_WEBHOOK_URL ?? null,
    speed,
    seed: int('seed', v.seed, 0, 4294967295),
    connectTimeoutMs: int('connect-timeout-ms', v['connect-timeout-ms'], 100, 3_600_000) ?? 30_000,
    json: v.json === true,
    list: v.list === true,
    help: v.help === true,
    dataDir,
    mock: {
      port: int('port', v.port, 0, 65535) ?? 0,
      mediaPort: int('media-port', v['media-port'], 0, 65535) ?? 0,
      bindHost: v.host ?? DEFAULT_OPTIONS.bindHost,
      publicHost: v['public-host'] ?? DEFAULT_OPTIONS.publicHost,
      credentialsPath: credentials,
      dataDir,
      keepAliveMs: int('keepalive-ms', v['keepalive-ms'], 10, 3_600_000),
      webhookTimeoutMs: int('webhook-timeout-ms', v['webhook-timeout-ms'], 1, 600_000),
      webhookMaxAttempts: int('webhook-attempts', v['webhook-attempts'], 1, 20),
      lenientSignature: v['lenient-signature'] === true,
      logLevel: level as 'warn',
      logSink: (line: string) => { process.stderr.write(`${line}\n`); },
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the command; returns the exit code. */
export async function runScenarioCommand(argv: string[]): Promise<number> {
  let args: RunArgs;
  try {
    args = parseRunArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) { console.error(`rtms-mock run: ${e.message}`); return 2; }
    throw e;
  }
  if (args.help) { process.stdout.write(RUN_USAGE); return 0; }
  let media;
  try {
    media = await loadMedia(args.dataDir);
  } catch (e) {
    console.error(`rtms-mock run: ${(e as Error).message}`);
    return 2;
  }
  const dialogue = dialogueInfo(media.program);
  const dir = scenarioDir(args.dataDir);
  if (args.list) {
    for (const e of listLibrary(dir, dialogue)) {
      if (e.summary) console.log(`${e.name.padEnd(22)} ${e.summary.product.padEnd(15)} ${String(Math.round(e.summary.duration_ms / 1000)).padStart(5)} s  ${e.summary.description}`);
      else console.log(`${e.name.padEnd(22)} INVALID: ${e.error}`);
    }
    return 0;
  }
  if (!args.scenario) { console.error('rtms-mock run: which scenario? Give a file or a library name (rtms-mock run --list).'); return 2; }
  if (!args.webhook) { console.error('rtms-mock run: --webhook URL is required (the app to send rtms_started to)'); return 2; }
  const url = checkWebhookUrl(args.webhook, '--webhook');
  if (!url.ok) { console.error(`rtms-mock run: ${url.error}`); return 2; }
  let plan;
  try {
    plan = resolveScenario(args.scenario, dir, dialogue, { seed: args.seed });
  } catch (e) {
    if (e instanceof ScenarioError) { console.error(`rtms-mock run: invalid scenario:\n${e.message}`); return 2; }
    throw e;
  }

  let mock: MockHandle;
  try {
    mock = await createMock(args.mock);
  } catch (e) {
    console.error(`rtms-mock run: ${(e as Error).message}`);
    return 2;
  }
  const { engine } = mock;
  // Probabilities and jitter of the faults follow the scenario's seed too (this process plays one meeting).
  const faultRng = new Prng(plan.seed ^ 0x2545f491);
  engine.faults.random = () => faultRng.next();
  let interrupted = false;
  const onSignal = () => { interrupted = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = performance.now();
    const { run, meeting } = startScenario(engine, plan, { webhookUrl: url.url.toString(), speed: args.speed, startRtms: false });
    // Start drawing the frames of the default formats (spec §8: camera JPG HD, share JPG FHD) before the app
    // connects; other formats are started at its data handshake.
    if (plan.product !== 'contact_center') run.prerender(meeting.video, 'JPG', 1280, 720, { codec: 'JPG', width: 1920, height: 1080 });
    const stream = engine.startStream(meeting);
    const connectDeadline = performance.now() + args.connectTimeoutMs;
    let connected = false;
    while (!interrupted && run.state !== 'finished') {
      if (!connected && run.state === 'running') connected = true;
      if (!connected && performance.now() > connectDeadline) break;
      await sleep(20);
    }
    const timelineMs = performance.now() - started;
    if (run.state !== 'finished' && !meeting.ended) {
      engine.endMeeting(meeting, interrupted ? StopReason.EXIT_SIGNAL : StopReason.MEETING_ENDED);
    }
    // Let rtms_stopped go out and be answered (bounded), and give the app a moment to close its sockets.
    const deadline = performance.now() + Math.min(5000, (args.mock?.webhookTimeoutMs ?? DEFAULT_OPTIONS.webhookTimeoutMs) + 500);
    while (mock.webhooks.pendingCount() > 0 && performance.now() < deadline) await sleep(20);
    await sleep(100);

    const verdict = meetingVerdict(engine, meeting, mock.webhooks.logFor(meeting.uuid));
    const behaviour = meeting.streams.map((s) => engine.behaviour.of(s));
    const handshook = behaviour.some((b) => b.cycles.some((c) => c.dataAt !== null));
    const connectCheck: VerdictCheck = handshook
      ? { name: 'app_connected', passed: true, detail: `completed the signaling and data handshakes (first stream ${stream.id.slice(0, 8)})` }
      : { name: 'app_connected', passed: false, detail: behaviour.some((b) => b.cycles.length > 0)
        ? `the app opened signaling but completed no data handshake within ${args.connectTimeoutMs} ms`
        : `the app did not connect within ${args.connectTimeoutMs} ms (is ${url.url} answering rtms_started?)` };
    const checks = [connectCheck, ...verdict.checks];
    const passed = checks.every((c) => c.passed) && run.state === 'finished' && !interrupted;

    // What the app was sent, from every connection the stream had.
    const sent = { audio: 0, video: 0, deskshare: 0, transcript: 0, chat: 0, events: 0 };
    for (const b of behaviour) {
      for (const c of b.connections) {
        if (c.kind === 'media') for (const k of Object.keys((c as MediaConnection).sent) as (keyof MediaConnection['sent'])[]) sent[k] += (c as MediaConnection).sent[k];
        else sent.events += (c as SignalingConnection).counters.outByType[MsgType.EVENT_UPDATE] ?? 0;
      }
    }
    const status = run.status();
    const streams = meeting.streams.map((s) => ({ rtms_stream_id: s.id, phase: s.phase, stop_reason: s.stopReason, stop_reason_name: s.stopReason === null ? null : nameOf(StopReason, s.stopReason) }));
    const result = {
      passed,
      scenario: planSummary(plan),
      run: {
        speed: run.speed, seed: plan.seed, meeting_uuid: meeting.uuid, wall_ms: Math.round(timelineMs), happenings_done: status.events_done,
        happenings_total: status.events_total, skipped: run.counts.skipped, transcripts: run.counts.transcripts, state: interrupted ? 'interrupted' : status.state,
        notes: status.notes,
      },
      streams,
      sent,
      checks,
      failed: checks.filter((c) => !c.passed).map((c) => c.name),
    };
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else console.log(formatSummary(result));
    return passed ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await mock.stop({ graceful: false });
  }
}

interface Result {
  passed: boolean;
  scenario: ReturnType<typeof planSummary>;
  run: { speed: number; seed: number; wall_ms: number; happenings_done: number; happenings_total: number; skipped: number; state: string; meeting_uuid: string };
  streams: { rtms_stream_id: string; phase: string; stop_reason_name: string | null; stop_reason: number | null }[];
  sent: Record<string, number>;
  checks: VerdictCheck[];
  failed: string[];
}

function formatSummary(r: Result): string {
  const s = r.scenario;
  const lines = [
    `scenario ${s.name} (${s.product}, ${s.participants.length} participants, seed ${r.run.seed}) at speed ${r.run.speed}`,
    `  timeline: ${(s.duration_ms / 1000).toFixed(1)} s of scenario time in ${(r.run.wall_ms / 1000).toFixed(2)} s; ${r.run.happenings_done} of ${r.run.happenings_total} happenings${r.run.skipped ? `, ${r.run.skipped} skipped` : ''} (${r.run.state})`,
    `  meeting ${r.run.meeting_uuid}: ${r.streams.map((x) => `stream ${x.rtms_stream_id.slice(0, 8)} ${x.phase}${x.stop_reason !== null ? ` (reason ${x.stop_reason} ${x.stop_reason_name})` : ''}`).join(', ')}`,
    `  sent: ${Object.entries(r.sent).map(([k, v]) => `${v} ${k}`).join(', ')}`,
    `verdict: ${r.passed ? 'PASSED' : 'FAILED'}`,
  ];
  const w = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) lines.push(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name.padEnd(w)}  ${c.detail}`);
  if (!r.passed) lines.push(r.failed.length ? `failed checks: ${r.failed.join(', ')}` : `the run did not finish (${r.run.state})`);
  return lines.join('\n');
}
