// The control API as the page uses it: typed shapes of what the server returns (src/control/api.ts) and fetch
// wrappers that turn every failure into a message saying what went wrong and what to do.
import type { LogEntry } from '../../src/engine/event-log.ts'; // the server's own type: erased, nothing bundled

export interface ConnCounters {
  msgsIn: number; msgsOut: number; bytesIn: number; bytesOut: number; dropped: number; errors: number;
  outByType: Record<string, number>; inByType: Record<string, number>;
}

export interface ConnInfo {
  id: number;
  kind: 'signaling' | 'media';
  dialect: string;
  remote_address: string;
  opened_at: number;
  closed: boolean;
  close_code: number | null;
  unanswered_keep_alives: number;
  buffered_bytes: number;
  counters: ConnCounters;
  path?: string;
  media_type?: number;
  media_params?: Record<string, Record<string, number> | undefined>;
  sent?: Record<string, number>;
}

export interface StreamInfo {
  rtms_stream_id: string;
  rtms_session_id: string;
  phase: 'awaiting' | 'connected' | 'active' | 'paused' | 'interrupted' | 'stopped';
  stream_state_name: string;
  session_state_name: string;
  stop_reason: number | null;
  started_at: number;
  stopped_at: number | null;
  ready_acked: boolean;
  reconnection_window: string | null;
  history: Record<string, number>;
  signaling: ConnInfo | null;
  media: ConnInfo[];
}

export interface ParticipantInfo { user_id: number; user_name: string; present: boolean; camera_on: boolean }

export interface MeetingSummary {
  meeting_uuid: string;
  product: string;
  id_key: string;
  state: 'live' | 'ended';
  created_at: number;
  webhook_url: string | null;
  rtms_stream_id: string | null;
  stream_phase: StreamInfo['phase'] | null;
  participants: ParticipantInfo[];
  active_speaker: { user_id: number; user_name: string } | null;
  sharing: { user_id: number; user_name: string } | null;
  streams: StreamInfo[];
  /** synthetic, browser or file (docs/ingest.md); absent on servers that predate live sources. */
  source?: string;
}

export type { LogEntry };

export interface DeliveryAttempt {
  attempt: number; sentAt: number; status?: number; error?: string; detail?: string; latencyMs: number;
  timestampHeader: string; signatureHeader: string; responseSnippet: string;
}

export interface DeliveryRecord {
  id: string; url: string; event: string; meetingKey?: string; body: string; eventTs: number;
  attempts: DeliveryAttempt[]; outcome: 'delivered' | 'failed' | 'pending'; createdAt: number; finishedAt?: number;
}

export interface MeetingDetail extends MeetingSummary {
  server_urls: string;
  media_server_urls: Record<string, string>;
  webhook_deliveries: DeliveryRecord[];
  log: LogEntry[];
}

export interface ValidationResult {
  ok: boolean; reason: string; status?: number; latencyMs: number; plainToken: string; encryptedToken?: string;
}

export interface CreatedMeeting { meeting_uuid: string; rtms_stream_id: string | null; server_urls: string; product: string; webhook_url: string | null }

/** An API failure: the HTTP status (0 = the server could not be reached) and the server's explanation. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unreachable', 'cannot reach the rtms-mock server: is it still running? (start it with `npm start`)');
  }
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `HTTP ${res.status} ${res.statusText}`);
  }
  return json as T;
}

export const enc = encodeURIComponent;

export const api = {
  meetings: () => call<{ meetings: MeetingSummary[] }>('GET', '/api/meetings').then((r) => r.meetings),
  meeting: (uuid: string) => call<MeetingDetail>('GET', `/api/meetings/${enc(uuid)}`),
  create: (body: Record<string, unknown>) => call<CreatedMeeting>('POST', '/api/meetings', body),
  end: (uuid: string) => call<MeetingSummary>('DELETE', `/api/meetings/${enc(uuid)}`),
  rtms: (uuid: string, action: 'pause' | 'resume' | 'stop' | 'start') => call<{ ok: boolean }>('POST', `/api/meetings/${enc(uuid)}/rtms/${action}`),
  participant: (uuid: string, userId: number, action: string) =>
    call<{ ok: boolean }>('POST', `/api/meetings/${enc(uuid)}/participants/${userId}/${action}`),
  chat: (uuid: string, text: string, userId?: number) =>
    call<{ ok: boolean; delivered: number }>('POST', `/api/meetings/${enc(uuid)}/chat`, userId === undefined ? { text } : { text, user_id: userId }),
  validate: (url: string) => call<ValidationResult>('POST', '/api/webhooks/validate', { url }),
};

/** One line for the user: "HTTP 409: cannot pause: …" or the network problem. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `HTTP ${err.status}: ${err.message}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
