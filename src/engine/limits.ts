// Connection limits (README "Security and limits"): every WebSocket the mock accepts — signaling, media and
// /ingest — takes one slot in a total count and in its remote address's count, and gives it back when it closes.
// Runtime-neutral: the engine and the ingest hub call acquire() when a socket opens and release() when it closes.

export interface LimitSettings {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export class ConnectionLimiter {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  /** Sockets refused because a limit was reached (all kinds, including per-meeting refusals counted by callers). */
  refused = 0;

  constructor(private readonly settings: LimitSettings) {}

  get count(): number {
    return this.total;
  }

  /** Distinct remote addresses holding at least one connection now. */
  get addresses(): number {
    return this.byAddress.size;
  }

  /** Takes a slot for a socket from `address`; returns null, or why it was refused (a close reason, ≤ 123 bytes). */
  acquire(address: string): string | null {
    const { maxConnections, maxConnectionsPerAddress } = this.settings;
    if (this.total >= maxConnections) {
      this.refused++;
      return `too many connections: ${maxConnections} open (--max-connections)`;
    }
    const n = this.byAddress.get(address) ?? 0;
    if (n >= maxConnectionsPerAddress) {
      this.refused++;
      return `too many connections from ${address.slice(0, 45)}: ${maxConnectionsPerAddress} (--max-connections-per-address)`;
    }
    this.total++;
    this.byAddress.set(address, n + 1);
    return null;
  }

  /** Gives back the slot of a socket that acquire() accepted (call exactly once per accepted socket). */
  release(address: string): void {
    const n = this.byAddress.get(address);
    if (n === undefined) return;
    if (n <= 1) this.byAddress.delete(address);
    else this.byAddress.set(address, n - 1);
    this.total = Math.max(0, this.total - 1);
  }
}

/** The close reason for a socket beyond the per-meeting limit. */
export function meetingLimitReason(max: number): string {
  return `too many connections to this meeting: ${max} (--max-connections-per-meeting)`;
}

/** WebSocket close code for an RTMS socket refused by a limit: 1013 Try Again Later (RFC 6455 §7.4, IANA registry). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
