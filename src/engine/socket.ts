// The engine's view of a WebSocket: all it needs, nothing runtime-specific (src/transport adapts Bun/Deno).
export interface RtmsSocket {
  /** Returns bytes written, -1 when queued under backpressure, 0 when dropped (Bun's contract). A Uint8Array
   *  goes out as a binary frame (the JSON-in-binary fault, spec §1). */
  send(data: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet written to the network. */
  bufferedAmount(): number;
  readonly remoteAddress: string;
}

export type MediaPath = 'all' | 'audio' | 'video' | 'deskshare' | 'transcript' | 'chat';
export const MEDIA_PATHS: readonly MediaPath[] = ['all', 'audio', 'video', 'deskshare', 'transcript', 'chat'];

/** What the transport attaches to each upgraded socket. */
export type SocketRole = { kind: 'signaling'; dialectHint: 'production' | 'seed' } | { kind: 'media'; path: MediaPath };
