// Runtime options of the mock, with the defaults documented in --help and the README.
export interface MockOptions {
  /** HTTP port: page, /api, /health, signaling WebSocket (default 9092, as Zoom's sample mock). 0 = ephemeral. */
  port: number;
  /** Media WebSocket port (default 8081). 0 = ephemeral. */
  mediaPort: number;
  /** Address to bind (default 127.0.0.1: loopback only). */
  bindHost: string;
  /** Host name put in the URLs handed out (webhook server_urls, msg 2 server_urls). */
  publicHost: string;
  credentialsPath: string;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Keep-alive interval on every socket (spec §4.1 Decision: 10 s). */
  keepAliveMs: number;
  /** Unanswered keep-alives in a row before a socket is dropped (spec §4.1: three). */
  keepAliveMisses: number;
  /** Reconnection windows (spec §4.1): signaling 60 s, media 30 s. */
  signalingWindowMs: number;
  mediaWindowMs: number;
  /** Accept the comma-less signature form too (spec §3.2 Decision). */
  lenientSignature: boolean;
  webhookTimeoutMs: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  /** Largest inbound WebSocket frame; larger ones close the socket with 1009. */
  maxFrameBytes: number;
  /** Media is dropped for a connection whose send buffer exceeds this (slow consumer policy). */
  maxBufferedBytes: number;
  /** An /ingest socket that sends no hello within this is closed with 4408 (docs/ingest.md §2). */
  ingestHelloTimeoutMs: number;
  /**
   * Token for the control API, the page and /ingest (src/control/access.ts): null = none, allowed only on a
   * loopback bind. Checked in constant time; `Authorization: Bearer`, `?token=` or the page's cookie.
   */
  apiToken: string | null;
  /** WebSocket connections at once, all kinds (signaling, media, ingest); more are closed with 1013 / 4429. */
  maxConnections: number;
  /** WebSocket connections at once from one remote address. */
  maxConnectionsPerAddress: number;
  /** Connections attached to one meeting (its streams' signaling and media sockets, its ingest feeders). */
  maxConnectionsPerMeeting: number;
  /** Live (not ended) meetings at once; POST /api/meetings beyond it is 429. */
  maxMeetings: number;
}

export const DEFAULT_OPTIONS: MockOptions = {
  port: 9092,
  mediaPort: 8081,
  bindHost: '127.0.0.1',
  publicHost: 'localhost',
  credentialsPath: 'data/rtms_credentials.json',
  dataDir: 'data',
  logLevel: 'info',
  keepAliveMs: 10_000,
  keepAliveMisses: 3,
  signalingWindowMs: 60_000,
  mediaWindowMs: 30_000,
  lenientSignature: false,
  webhookTimeoutMs: 5_000,
  webhookMaxAttempts: 4,
  webhookBackoffMs: 1_000,
  maxFrameBytes: 64 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  ingestHelloTimeoutMs: 10_000,
  apiToken: null,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 5_000,
  maxConnectionsPerMeeting: 1_000,
  maxMeetings: 5_000,
};
