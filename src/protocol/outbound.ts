// Outbound (mock → app) signaling messages in both dialects (spec §3, §4, §10). Pure builders returning the
// exact JSON text to send. Media messages are built by src/engine/media-packer.ts (cached per frame).
import { MsgType, SessionState, StatusCode, StopReason, StreamState, nameOf } from './enums.ts';
import type { Dialect } from './inbound.ts';
import type { MediaParams } from './media-params.ts';

export type ServerUrls = Record<'all' | 'audio' | 'video' | 'deskshare' | 'transcript' | 'chat', string>;

/** Seed status strings: STATUS_OK, or STATUS_<NAME> of the production code (spec §10). */
export function seedStatus(code: number): string {
  return code === StatusCode.OK ? 'STATUS_OK' : `STATUS_${nameOf(StatusCode, code)}`;
}

export function signalingHandshakeResp(dialect: Dialect, status: number, reason: string, urls: ServerUrls | null,
  sequence: number): string {
  if (dialect === 'seed') {
    return JSON.stringify({
      msg_type: 'SIGNALING_HAND_SHAKE_RESP', protocol_version: 1, status: seedStatus(status),
      ...(reason ? { reason } : {}),
      ...(urls ? { media_urls: { all: urls.all, video: urls.video, audio: urls.audio, transcript: urls.transcript } } : {}),
    });
  }
  return JSON.stringify({
    msg_type: MsgType.SIGNALING_HAND_SHAKE_RESP, protocol_version: 1, sequence, status_code: status, reason,
    ...(urls ? { media_server: { server_urls: urls } } : {}),
  });
}

export function dataHandshakeResp(dialect: Dialect, status: number, reason: string, params: MediaParams | null,
  sequence: number): string {
  if (dialect === 'seed') {
    return JSON.stringify({
      msg_type: 'DATA_HAND_SHAKE_RESP', protocol_version: 1, status: seedStatus(status), ...(reason ? { reason } : {}),
    });
  }
  return JSON.stringify({
    msg_type: MsgType.DATA_HAND_SHAKE_RESP, protocol_version: 1, sequence, status_code: status, reason,
    payload_encrypted: false, ...(params ? { media_params: params } : {}),
  });
}

export function keepAliveReq(dialect: Dialect, timestamp: number): string {
  return dialect === 'seed'
    ? `{"msg_type":"KEEP_ALIVE_REQ","timestamp":${timestamp}}`
    : `{"msg_type":${MsgType.KEEP_ALIVE_REQ},"timestamp":${timestamp}}`;
}

/** Spec §4.2 Decision: both `reason` and `stop_reason` on both state messages. */
export function streamStateUpdate(dialect: Dialect, state: number, reason: number, timestamp: number): string {
  if (dialect === 'seed') {
    const r = `STOP_BC_${nameOf(StopReason, reason)}`;
    return JSON.stringify({ msg_type: 'STREAM_STATE_UPDATE', state: nameOf(StreamState, state), reason: r, stop_reason: r, timestamp });
  }
  return `{"msg_type":${MsgType.STREAM_STATE_UPDATE},"state":${state},"reason":${reason},"stop_reason":${reason},"timestamp":${timestamp}}`;
}

export function sessionStateUpdate(dialect: Dialect, sessionId: string, state: number, stopReason: number,
  timestamp: number): string {
  if (dialect === 'seed') {
    const r = `STOP_BC_${nameOf(StopReason, stopReason)}`;
    return JSON.stringify({ msg_type: 'SESSION_STATE_UPDATE', rtms_session_id: sessionId, state: nameOf(SessionState, state), stop_reason: r, reason: r, timestamp });
  }
  return JSON.stringify({ msg_type: MsgType.SESSION_STATE_UPDATE, rtms_session_id: sessionId, state, stop_reason: stopReason, reason: stopReason, timestamp });
}

export function eventUpdate(dialect: Dialect, event: Record<string, unknown>): string {
  return JSON.stringify({ msg_type: dialect === 'seed' ? 'EVENT_UPDATE' : MsgType.EVENT_UPDATE, event });
}

/**
 * Response to an app request (spec §4.4: 11, 20, 22, 29) in the connection's dialect. Seed (spec §10): the
 * msg_type, `state` and `status_code` become names, as in its state updates and handshake replies.
 */
export function requestResp(dialect: Dialect, msgType: number, fields: Record<string, unknown> & { state?: number; status_code?: number }): string {
  if (dialect !== 'seed') return JSON.stringify({ msg_type: msgType, ...fields });
  const { state, status_code: status, ...rest } = fields;
  const states = msgType === MsgType.SESSION_STATE_RESP ? SessionState : StreamState;
  return JSON.stringify({
    msg_type: nameOf(MsgType, msgType), ...rest,
    ...(state !== undefined ? { state: nameOf(states, state) } : {}),
    ...(status !== undefined ? { status: seedStatus(status) } : {}),
  });
}

/**
 * Reply to a request that has no response type of its own, or to a message that could not be understood
 * (Decision: the request's msg_type with `status_code` and `reason`; the socket stays open).
 */
export function errorReply(dialect: Dialect, msgType: number | undefined, status: number, reason: string): string {
  if (dialect === 'seed') {
    return JSON.stringify({ msg_type: msgType !== undefined ? nameOf(MsgType, msgType) : 'ERROR', status: seedStatus(status), reason });
  }
  return JSON.stringify({ ...(msgType !== undefined ? { msg_type: msgType } : {}), status_code: status, reason });
}
