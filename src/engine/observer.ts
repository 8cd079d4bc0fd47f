// What a stream reports as it lives (handshakes, acks, losses, windows, stop) to whoever listens: the
// app-behaviour recorder behind the verdicts and the fault injector. One call per happening, no cost without
// listeners. Emitted by stream.ts and rtms-engine.ts.
import type { MediaConnection, SignalingConnection } from './connection.ts';
import type { RtmsStream } from './stream.ts';

export type StreamEvent =
  /** A signaling handshake succeeded; `reconnected` when it closed a signaling window (spec §4.1). */
  | { kind: 'signaling_attached'; conn: SignalingConnection; reconnected: boolean }
  /** A data handshake succeeded; `reconnected` when it closed a media window. */
  | { kind: 'media_attached'; conn: MediaConnection; reconnected: boolean }
  /** CLIENT_READY_ACK (msg 7) arrived (spec §3.4). */
  | { kind: 'ready_ack' }
  /** FIRST_PACKET_TIMESTAMP went out: media flows (again). `firstPacketAt`: its value (the media grid time). */
  | { kind: 'activated'; firstPacketAt?: number }
  /** Signaling lost: INTERRUPTED and a window; `cause` is the stop reason if the window expires. */
  | { kind: 'signaling_lost'; conn: SignalingConnection; cause: number; windowMs: number }
  /** A media socket lost while signaling lives: event 7, state 2/14 and (if not already open) a window. */
  | { kind: 'media_lost'; conn: MediaConnection; cause: number; windowMs: number }
  | { kind: 'window_expired'; window: 'signaling' | 'media' }
  | { kind: 'stopped'; reason: number }
  /** A handshake for a stream that has already stopped (status 2): a reconnect after a normal stop. */
  | { kind: 'late_handshake'; socket: 'signaling' | 'media'; status: number }
  /** A second concurrent connection for a live stream (status 8, 15 or 16). */
  | { kind: 'duplicate_handshake'; socket: 'signaling' | 'media'; status: number };

export type StreamObserver = (stream: RtmsStream, e: StreamEvent) => void;
