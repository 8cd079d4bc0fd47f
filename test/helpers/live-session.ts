// Sessions that each run on their own in-process mock with a clock the test moves (WarpClock), so a whole
// dialogue loop can be checked in well under a second. Shared by the media tests (test/engine/media-*.test.ts).
import { startMock, type TestMock } from './mock.ts';
import { WarpClock, closeAll, meetingAtOffset, openSession, type MeetingRef, type Session, type SessionOptions } from './rtms-session.ts';

export interface Live { mock: TestMock; clock: WarpClock; m: MeetingRef; s: Session }

export interface LiveOptions extends SessionOptions {
  /** Runs after the meeting exists and before the handshakes (participant changes through the API). */
  before?: (mock: TestMock, m: MeetingRef) => Promise<void>;
}

/** Media starts after CLIENT_READY_ACK with FIRST_PACKET_TIMESTAMP (spec §3.4): wait for it before moving the clock. */
export async function firstPacket(s: Session): Promise<void> {
  await s.sig.next((x) => x?.msg_type === 6 && x.event?.event_type === 1, 20000, 'FIRST_PACKET_TIMESTAMP');
}

/** Opens sessions with the suite's defaults; `stopAll()` (afterEach/afterAll) closes every client and mock. */
export class LiveSessions {
  private readonly mocks: TestMock[] = [];

  constructor(private readonly defaults: SessionOptions = {}) {}

  /** A meeting whose media loop is at `offset` ms, with one app through both handshakes and media started. */
  async open(offset: number, o: LiveOptions = {}): Promise<Live> {
    const clock = new WarpClock();
    const mock = await this.mock(clock);
    const m = await meetingAtOffset(mock, clock, offset);
    await o.before?.(mock, m);
    const s = await openSession(mock, { ...this.defaults, ...o, meeting: m });
    await firstPacket(s);
    return { mock, clock, m, s };
  }

  /** A mock on `clock`, stopped by stopAll(), for tests that open their sockets themselves. */
  async mock(clock: WarpClock): Promise<TestMock> {
    const mock = await startMock({ clock });
    this.mocks.push(mock);
    return mock;
  }

  async stopAll(): Promise<void> {
    closeAll();
    await Promise.all(this.mocks.splice(0).map((m) => m.stop({ graceful: false })));
  }
}

/** Media messages the server counted as sent on this stream have all been read by the client. */
export function settled(l: Live): boolean {
  const st = l.mock.engine.streams.get(l.m.rtms_stream_id);
  let sent = 0;
  for (const c of st?.media ?? []) sent += c.sent.audio + c.sent.video + c.sent.deskshare + c.sent.transcript + c.sent.chat;
  const got = l.s.media.received.filter((r) => typeof r.msg?.msg_type === 'number' && r.msg.msg_type >= 14 && r.msg.msg_type <= 18).length;
  return got >= sent;
}

/** The meeting's loop offset now: open() returns once media started, which under load is later than asked. */
export const offsetNow = (l: Live): number => l.clock.now() - l.m.createdAt;

/**
 * Moves the clock straight to loop offset `to`. Real-time tests open the session earlier in the loop and then
 * jump, so a slow handshake on a busy machine cannot make them miss the moment they watch.
 */
export function jumpTo(l: Live, to: number): void {
  const delta = l.m.createdAt + to - l.clock.now();
  if (delta > 0) l.clock.jump(delta);
}
