// Shared by the fault and product tests: one in-process mock on loopback ports, the reference app (or a
// misbehaving variant of it) as the RTMS app, one meeting at a high speed factor so windows and keep-alives
// take milliseconds, and helpers to inject faults and read verdicts through the real HTTP API.
import { expect } from 'bun:test';
import type { CreateMockOptions } from '../../src/app.ts';
import { startReferenceApp, type Observation, type ReferenceApp, type ReferenceAppOptions, type StreamSession } from '../../src/client/reference-app.ts';
import { until } from '../helpers/driven-app.ts';
import { startMock, type TestMock } from '../helpers/mock.ts';

/**
 * Speed 50: keep-alive every 200 ms (10 s / 50), signaling window 1.2 s (60 s / 50), media window 600 ms
 * (30 s / 50), webhook backoff 20 ms. Media stays real time.
 */
export const SPEED = 50;
export const KEEPALIVE_MS = 10_000 / SPEED;
export const SIGNALING_WINDOW_MS = 60_000 / SPEED;
export const MEDIA_WINDOW_MS = 30_000 / SPEED;

export interface Harness {
  mock: TestMock;
  app: ReferenceApp;
  created: any;
  /** The stream the app keeps for the meeting's first stream. */
  s: StreamSession;
  uuidPath: string;
  inject(body: unknown): Promise<{ status: number; body: any }>;
  verdict(): Promise<any>;
  meeting(): Promise<any>;
  /** The named check of the meeting's verdict. */
  check(name: string): Promise<{ name: string; passed: boolean; detail: string }>;
  webhook(event: string, from?: number): Promise<Extract<Observation, { kind: 'webhook' }>>;
  /** Media messages of one type received by the app so far. */
  media(type?: number): StreamSession['messages'];
}

let current: { mock: TestMock | null; app: ReferenceApp | null } = { mock: null, app: null };

/** afterEach: stop what the last setup started. */
export async function teardown(): Promise<void> {
  const { mock, app } = current;
  current = { mock: null, app: null };
  await app?.stop();
  await mock?.stop({ graceful: false });
}

export interface SetupOptions {
  mock?: CreateMockOptions;
  app?: ReferenceAppOptions;
  /** Extra POST /api/meetings fields (speed defaults to SPEED). */
  meeting?: Record<string, unknown>;
  /** Wait for the first audio message (default true). */
  waitMedia?: boolean;
}

export async function setup(o: SetupOptions = {}): Promise<Harness> {
  const mock = await startMock({ webhookBackoffMs: 1000, ...o.mock });
  current.mock = mock;
  const app = await startReferenceApp({ log: false, mediaTypes: 9, reconnectDelaysMs: [30, 60, 120, 240], handshakeTimeoutMs: 3000, ...o.app });
  current.app = app;
  const created = await mock.startMeeting(app.url, { speed: SPEED, ...o.meeting });
  const uuidPath = `/api/meetings/${encodeURIComponent(created.meeting_uuid)}`;
  const h: Harness = {
    mock, app, created, uuidPath, s: undefined as unknown as StreamSession,
    inject: (body) => mock.api('POST', `${uuidPath}/faults`, body),
    async verdict() {
      const r = await mock.api('GET', `${uuidPath}/verdict`);
      expect(r.status).toBe(200);
      return r.body;
    },
    async meeting() {
      const r = await mock.api('GET', uuidPath);
      expect(r.status).toBe(200);
      return r.body;
    },
    async check(name) {
      const v = await h.verdict();
      const c = v.checks.find((x: any) => x.name === name);
      if (!c) throw new Error(`no check ${name} in ${JSON.stringify(v)}`);
      return c;
    },
    webhook: (event, from = 0) => app.waitFor((x) => x.kind === 'webhook' && x.event === event && x.receivedAt >= from, 5000, { label: event })
      .then((x) => x as Extract<Observation, { kind: 'webhook' }>),
    media: (type = 14) => h.s.messages.filter((m) => m.msg?.msg_type === type),
  };
  if (created.rtms_stream_id && o.app?.autoConnect !== false) {
    h.s = await until(() => app.streams.get(created.rtms_stream_id), 3000, 'stream session');
    if (o.waitMedia !== false) await app.waitFor((x) => x.kind === 'message' && x.msg?.msg_type === 14, 5000, { label: 'first audio' });
  }
  return h;
}

/** Signaling messages the app received (parsed), from index `from`. */
export function signaling(s: StreamSession, from = 0): any[] {
  return s.messages.slice(from).filter((m) => m.socket === 'signaling').map((m) => m.msg);
}

export function stateUpdates(s: StreamSession, from = 0): any[] {
  return signaling(s, from).filter((m) => m.msg_type === 8);
}

/** Handshake requests (msg 1) the app sent. */
export function signalingRequests(s: StreamSession): any[] {
  return s.sent.filter((m) => m.socket === 'signaling' && m.msg?.msg_type === 1).map((m) => m.msg);
}

export { until };
