// The production MEDIA_DATA_VIDEO text (spec §7) for one JPEG of the bench feeder, as the bare baselines build it:
// the same shape and size as what the mock sends the apps for that frame.
export const BENCH_FEEDER = { userId: 16778999, userName: 'Bench feeder' };

const HEAD = `{"msg_type":15,"content":{"user_id":${BENCH_FEEDER.userId},"user_name":${JSON.stringify(BENCH_FEEDER.userName)},"data":"`;

export function videoMessage(jpeg: Uint8Array, timestamp: number): string {
  const b64 = (jpeg as Uint8Array & { toBase64(): string }).toBase64();
  return `${HEAD}${b64}","length":${jpeg.length},"timestamp":${timestamp}}}`;
}
