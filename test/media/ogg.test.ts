import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demuxOggOpus, muxOggOpus, oggCrc, readOggPackets } from '../../src/media/audio/ogg.ts';
import { DEFAULT_SPEECH_DIR } from '../../src/media/audio/speech-program.ts';
import { requireFfmpeg } from '../helpers/ffmpeg.ts';

function packet(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

// Sizes around the lacing edges: 255 needs a trailing 0 lacing value, 510 spans two full segments.
const sizes = [1, 3, 254, 255, 256, 510, 600, 1275, 70000, 7];
const packets = sizes.map((n, i) => packet(n, i));

/** Frame duration from an Opus TOC byte (RFC 6716 §3.1): SILK, hybrid and CELT configurations. */
function tocFrameMs(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [10, 20, 40, 60][config % 4]!;
  if (config < 16) return [10, 20][config % 2]!;
  return [2.5, 5, 10, 20][config % 4]!;
}

test('mux/demux round trip with lacing edge cases', () => {
  const ogg = muxOggOpus(packets, { channels: 2, preSkip: 312, inputSampleRate: 16000 });
  const { head, packets: back } = demuxOggOpus(ogg);
  expect(head.channels).toBe(2);
  expect(head.preSkip).toBe(312);
  expect(head.inputSampleRate).toBe(16000);
  expect(back.length).toBe(packets.length);
  back.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(packets[i]!)));
});

test('packets spanning pages are reassembled', () => {
  // Two lacing values per page: almost every packet continues on the next page.
  const ogg = muxOggOpus(packets, { channels: 1, maxSegmentsPerPage: 2 });
  const raw = readOggPackets(ogg);
  expect(raw.packets.length).toBe(packets.length + 2); // + OpusHead, OpusTags
  let pages = 0;
  let continued = 0;
  for (let at = 0; at < ogg.length; ) {
    expect(String.fromCharCode(...ogg.subarray(at, at + 4))).toBe('OggS');
    pages++;
    if (ogg[at + 5]! & 1) continued++;
    const nseg = ogg[at + 26]!;
    let body = 0;
    for (let i = 0; i < nseg; i++) body += ogg[at + 27 + i]!;
    at += 27 + nseg + body;
  }
  expect(continued).toBeGreaterThan(100);
  expect(pages).toBeGreaterThan(continued);
  const { packets: back } = demuxOggOpus(ogg);
  back.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(packets[i]!)));
});

test('corruption is detected by the page CRC', () => {
  const ogg = muxOggOpus([packet(100, 1)], { channels: 1 });
  const bad = ogg.slice();
  bad[bad.length - 5]! ^= 0x40;
  expect(() => demuxOggOpus(bad, 'bad.opus')).toThrow(/bad\.opus: page at byte \d+: CRC mismatch/);
  expect(() => demuxOggOpus(ogg.subarray(0, ogg.length - 3), 'cut.opus')).toThrow(/cut\.opus/);
  expect(oggCrc(new Uint8Array(0))).toBe(0);
});

test('the mixed Opus track has one 20 ms packet per frame of the loop', () => {
  const transcript = JSON.parse(readFileSync(join(DEFAULT_SPEECH_DIR, 'transcript.json'), 'utf8')) as { duration_ms: number };
  for (const [file, channels] of [['mixed.mono.opus', 1], ['mixed.stereo.opus', 2]] as const) {
    const { head, packets: ps } = demuxOggOpus(new Uint8Array(readFileSync(join(DEFAULT_SPEECH_DIR, file))), file);
    expect(head.channels).toBe(channels);
    expect(ps.length).toBe(transcript.duration_ms / 20);
    for (const p of ps) {
      expect(p.length).toBeGreaterThan(0);
      expect(p[0]! & 0x03).toBe(0); // TOC code 0: one frame per packet
      expect(tocFrameMs(p[0]!)).toBe(20);
    }
  }
});

test('demuxes an Ogg Opus file written by ffmpeg', () => {
  const r = Bun.spawnSync(
    [requireFfmpeg(), '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1:sample_rate=48000', '-c:a', 'libopus', '-frame_duration', '20', '-f', 'ogg', 'pipe:1'],
    { stdout: 'pipe', stderr: 'pipe' },
  );
  expect(r.exitCode).toBe(0);
  const { head, packets: ps } = demuxOggOpus(new Uint8Array(r.stdout), 'ffmpeg');
  expect(head.channels).toBe(1);
  expect(head.preSkip).toBeGreaterThan(0);
  expect(ps.length).toBeGreaterThanOrEqual(50); // 1 s of 20 ms packets (+ the lookahead flush)
  expect(ps.length).toBeLessThanOrEqual(52);
});
