// The main flow against a mock running anywhere (another process, another runtime, TLS): the reference app
// receives the signed rtms_started webhook, runs both handshakes and receives audio, video and a transcript.
// Returns what the caller needs to go on (e.g. to stop the mock and check rtms_stopped).
import { expect } from 'bun:test';
import { createHmac } from 'node:crypto';
import type { ReferenceApp, StreamSession } from '../../src/client/reference-app.ts';
import { SECRET_TOKEN } from './ws-client.ts';

export interface MainFlowResult {
  meetingUuid: string;
  streamId: string;
  session: StreamSession;
}

export async function runMainFlow(
  app: ReferenceApp,
  baseUrl: string,
  opts: { scheme?: 'ws' | 'wss'; fetchInit?: Record<string, unknown>; timeoutMs?: number } = {},
): Promise<MainFlowResult> {
  const scheme = opts.scheme ?? 'ws';
  const timeout = opts.timeoutMs ?? 15_000;
  const res = await fetch(`${baseUrl}/api/meetings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ webhook_url: app.url }),
    ...opts.fetchInit,
  });
  expect(res.status).toBe(201);
  const created = (await res.json()) as { meeting_uuid: string; rtms_stream_id: string; server_urls: string };
  expect(created.server_urls).toStartWith(`${scheme}://`);

  // The webhook, signed over the exact bytes (spec §9), checked independently of the server's code.
  const started = await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_started', timeout);
  if (started.kind !== 'webhook') throw new Error('unreachable');
  const ts = started.headers['x-zm-request-timestamp']!;
  expect(started.headers['x-zm-signature']).toBe('v0=' + createHmac('sha256', SECRET_TOKEN).update(`v0:${ts}:${started.rawBody}`).digest('hex'));
  expect(started.body.payload.rtms_stream_id).toBe(created.rtms_stream_id);

  // Signaling handshake (msg 2 OK with media URLs of the same scheme), data handshake (msg 4 OK), then media.
  await app.waitFor((o) => o.kind === 'message' && o.socket === 'signaling' && o.msg.msg_type === 2, timeout);
  const session = app.streams.get(created.rtms_stream_id)!;
  expect(session.signalingResponse).toMatchObject({ msg_type: 2, status_code: 0 });
  expect(String(session.signalingResponse.media_server.server_urls.all)).toStartWith(`${scheme}://`);
  await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === 4, timeout);
  expect(session.dataResponses.all).toMatchObject({ msg_type: 4, status_code: 0 });
  for (const [type, what] of [[14, 'audio'], [15, 'video'], [17, 'transcript']] as const) {
    const m = await app.waitFor((o) => o.kind === 'message' && o.msg.msg_type === type, timeout, { label: what });
    if (m.kind !== 'message') throw new Error('unreachable');
    expect(m.msg.content).toBeDefined();
  }
  expect(session.state).toBe('ready');
  return { meetingUuid: created.meeting_uuid, streamId: created.rtms_stream_id, session };
}

/** After the mock was stopped by a signal: STREAM_STATE_UPDATE TERMINATED on signaling and rtms_stopped, reason 17. */
export async function expectStoppedBySignal(app: ReferenceApp, flow: MainFlowResult, timeoutMs = 10_000): Promise<void> {
  const stopped = await app.waitFor((o) => o.kind === 'webhook' && o.event === 'meeting.rtms_stopped', timeoutMs);
  if (stopped.kind !== 'webhook') throw new Error('unreachable');
  // EXIT_SIGNAL (spec §5 stop reasons).
  expect(stopped.body.payload).toMatchObject({ meeting_uuid: flow.meetingUuid, rtms_stream_id: flow.streamId, stop_reason: 17 });
  const term = flow.session.messages.find((m) => m.socket === 'signaling' && m.msg.msg_type === 8 && m.msg.state === 4);
  expect(term?.msg).toMatchObject({ stop_reason: 17 });
}
