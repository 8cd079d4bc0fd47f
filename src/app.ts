// Assembles one mock: credentials, media library, scheduler, webhook dispatcher, engine, control API and the
// two listeners. Used by the CLI and, in-process on ephemeral ports, by the tests.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };
import { DEFAULT_OPTIONS, type MockOptions } from './config/options.ts';
import { loadCredentials, type Credentials } from './config/credentials.ts';
import { createApi } from './control/api.ts';
import { checkBindAccess } from './control/access.ts';
import { fileAssets, type StaticAssets } from './control/static-assets.ts';
import { RtmsEngine, type WebhookSink } from './engine/rtms-engine.ts';
import { Scheduler, type Clock, realClock } from './engine/scheduler.ts';
import { createLogger, short, type Logger } from './log.ts';
import { loadSpeechProgram } from './media/audio/speech-program.ts';
import { createVideoLibrary } from './media/video/video-library.ts';
import type { SpeechProgram, VideoLibrary } from './media/types.ts';
import { listen, type RunningServers } from './transport/listen.ts';
import { WebhookDispatcher } from './webhooks/delivery.ts';

export const VERSION: string = pkg.version;

export interface MockHandle {
  engine: RtmsEngine;
  webhooks: WebhookDispatcher;
  port: number;
  mediaPort: number;
  /** http://127.0.0.1:port style base for the API. */
  baseUrl: string;
  log: Logger;
  /** Stops every live stream (state messages + rtms_stopped), then the listeners. */
  stop(opts?: { graceful?: boolean; reason?: number }): Promise<void>;
}

export interface CreateMockOptions extends Partial<MockOptions> {
  clock?: Clock;
  credentials?: Credentials;
  /** Webhook URL used when POST /api/meetings gives none (and by --start). */
  defaultWebhookUrl?: string | null;
  logSink?: (line: string) => void;
  tls?: { cert: string; key: string };
  /** The web page's files; default web/dist next to the sources (built by `bun run build:web`). */
  assets?: StaticAssets;
}

/** Media is loaded once per process and shared by every mock instance (tests start many). */
const mediaCache = new Map<string, Promise<{ program: SpeechProgram; video: VideoLibrary }>>();
export function loadMedia(dataDir: string) {
  let p = mediaCache.get(dataDir);
  if (!p) {
    p = (async () => {
      const program = await loadSpeechProgram(join(dataDir, 'speech'));
      const video = createVideoLibrary(dataDir, { progressive: true });
      // Start the default camera loops (spec §8: JPG HD) in the background right away: the first app rarely waits.
      // One speaker per macrotask, a moment after the listeners are up: each first frame is encoded synchronously
      // (tens of ms), and the first /health of a starting mock must not wait for them (89 vs 146 ms median for the
      // executable). An app that handshakes earlier gets its first frame rendered on demand, as before.
      const warm = (i: number) => {
        const s = program.speakers[i];
        if (!s) return;
        video.frames({ kind: 'camera', userName: s.userName, userId: s.userId }, 'JPG', 1280, 720);
        setTimeout(() => warm(i + 1), 0);
      };
      setTimeout(() => warm(0), 250);
      return { program, video };
    })();
    mediaCache.set(dataDir, p);
    p.catch(() => mediaCache.delete(dataDir));
  }
  return p;
}

export async function createMock(input: CreateMockOptions = {}): Promise<MockHandle> {
  const options: MockOptions = { ...DEFAULT_OPTIONS, ...stripUndefined(input) };
  // A non-loopback bind needs an API token (README "Security and limits"); the CLI checks it first, with its flag names.
  const access = checkBindAccess(options.bindHost, options.apiToken);
  if (access) throw new Error(access);
  const log = createLogger(options.logLevel, '', input.logSink);
  const credentials = input.credentials ?? loadCredentials(options.credentialsPath);
  const { program, video } = await loadMedia(options.dataDir);
  const scheduler = new Scheduler(input.clock ?? realClock);
  scheduler.onError = (err) => log.error(`scheduled task failed: ${(err as Error).stack ?? err}`);

  const webhooks = new WebhookDispatcher({
    secretToken: credentials.webhookSecretToken,
    timeoutMs: options.webhookTimeoutMs,
    maxAttempts: options.webhookMaxAttempts,
    backoffMs: options.webhookBackoffMs,
  });
  let engineRef: RtmsEngine | null = null;
  webhooks.subscribe((e) => {
    const r = e.record;
    const a = e.attempt;
    const m = r.meetingKey ? engineRef?.meetings.get(r.meetingKey) : undefined;
    if (engineRef?.inspector.active) engineRef.inspector.emit({ type: 'webhook', meeting_uuid: r.meetingKey ?? null, delivery: r });
    if (e.type === 'attempt' && a) {
      const result = a.status !== undefined ? `HTTP ${a.status}` : a.error ?? 'error';
      const line = `webhook ${r.event} → ${r.url}: attempt ${a.attempt} ${result} in ${Math.round(a.latencyMs)} ms`;
      if (a.status !== undefined && a.status >= 200 && a.status < 300) log.info(line); else log.warn(line);
      m?.log.push({ at: Math.round(a.sentAt), dir: a.status !== undefined && a.status < 300 ? 'out' : 'error', socket: 'webhook', text: `${r.event}: attempt ${a.attempt} ${result} (${Math.round(a.latencyMs)} ms)` });
    } else if (e.type === 'failed') {
      log.error(`webhook ${r.event} → ${r.url} failed after ${r.attempts.length} attempt(s)`);
    }
  });
  const sink: WebhookSink = {
    send(meeting, url, event, payload, opts) {
      return webhooks.deliver(url, event, payload, { meetingKey: meeting.uuid }, opts).catch((err) => {
        log.error(`webhook ${event} for ${short(meeting.uuid)} could not be sent: ${(err as Error).message}`);
      });
    },
  };
  const engine = new RtmsEngine({ options, credentials, program, video, scheduler, log, webhooks: sink });
  engineRef = engine;
  const startedAt = Date.now();
  const api = createApi({ engine, webhooks, version: VERSION, defaultWebhookUrl: input.defaultWebhookUrl ?? null, startedAt,
    assets: input.assets ?? fileAssets(fileURLToPath(new URL('../web/dist', import.meta.url))) });
  let servers: RunningServers;
  try {
    servers = await listen(engine, (req) => api.fetch(req), {
      hostname: options.bindHost,
      port: options.port,
      mediaPort: options.mediaPort,
      maxFrameBytes: options.maxFrameBytes,
      backpressureLimit: options.maxBufferedBytes * 2,
      tls: input.tls,
    });
  } catch (err) {
    scheduler.clear();
    throw new Error(`cannot listen on ${options.bindHost}:${options.port} / ${options.mediaPort}: ${(err as Error).message}. ` +
      'Another rtms-mock (or Zoom\'s sample mock) may be running; pick other ports with --port/--media-port.');
  }
  engine.setPorts(servers.port, servers.mediaPort, Boolean(input.tls));
  const host = options.bindHost === '0.0.0.0' || options.bindHost === '::' ? '127.0.0.1' : options.bindHost;
  let stopped = false;
  return {
    engine,
    webhooks,
    port: servers.port,
    mediaPort: servers.mediaPort,
    baseUrl: `${input.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${servers.port}`,
    log,
    async stop(opts = {}) {
      if (stopped) return;
      stopped = true;
      if (opts.graceful !== false) {
        engine.stopAll(opts.reason);
        // Give the rtms_stopped webhooks a moment to go out (bounded: never hang shutdown).
        const deadline = Date.now() + Math.min(options.webhookTimeoutMs, 3000);
        while (webhooks.pendingCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      }
      scheduler.clear();
      await webhooks.close();
      await servers.stop();
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
