// Ogg (RFC 3533) carrying Opus (RFC 7845). The protocol sends bare Opus packets (spec §8), so the pre-encoded
// .opus files are demuxed once at startup; the muxer lets the generator and the reference client write files.
import { z } from 'zod';

const CRC_TABLE = (() => {
  // Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor.
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc >>> 0;
}

const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;

export interface OggPacket {
  data: Uint8Array;
  /** Granule position of the page on which the packet ends (-1n when unknown). */
  granule: bigint;
}

/**
 * All packets of the first logical stream, reassembled across lacing and page boundaries. Pages are checked
 * (capture pattern, version, CRC, sequence); `name` prefixes every error.
 */
export function readOggPackets(bytes: Uint8Array, name = 'Ogg'): { serial: number; packets: OggPacket[] } {
  const fail = (at: number, msg: string): never => {
    throw new Error(`${name}: page at byte ${at}: ${msg}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: OggPacket[] = [];
  let serial: number | undefined;
  let expectedSeq = 0;
  let pending: Uint8Array[] = [];
  let at = 0;
  if (bytes.length === 0) throw new Error(`${name}: empty file`);
  while (at < bytes.length) {
    if (at + 27 > bytes.length) fail(at, 'truncated page header');
    if (bytes[at] !== 0x4f || bytes[at + 1] !== 0x67 || bytes[at + 2] !== 0x67 || bytes[at + 3] !== 0x53) {
      fail(at, 'capture pattern "OggS" not found');
    }
    if (bytes[at + 4] !== 0) fail(at, `stream structure version ${bytes[at + 4]} != 0`);
    const flags = bytes[at + 5]!;
    const granule = view.getBigInt64(at + 6, true);
    const pageSerial = view.getUint32(at + 14, true);
    const seq = view.getUint32(at + 18, true);
    const crc = view.getUint32(at + 22, true);
    const nSegments = bytes[at + 26]!;
    const bodyStart = at + 27 + nSegments;
    if (bodyStart > bytes.length) fail(at, 'truncated segment table');
    const lacing = bytes.subarray(at + 27, bodyStart);
    let bodyLength = 0;
    for (const l of lacing) bodyLength += l;
    const pageEnd = bodyStart + bodyLength;
    if (pageEnd > bytes.length) fail(at, `truncated body (${bodyLength} bytes announced)`);
    const page = bytes.slice(at, pageEnd);
    page[22] = page[23] = page[24] = page[25] = 0;
    if (oggCrc(page) !== crc) fail(at, 'CRC mismatch');
    if (serial === undefined) {
      if (!(flags & FLAG_BOS)) fail(at, 'first page lacks the beginning-of-stream flag');
      serial = pageSerial;
    }
    if (pageSerial === serial) {
      if (seq !== expectedSeq) fail(at, `page sequence ${seq}, expected ${expectedSeq}`);
      expectedSeq++;
      const continued = (flags & FLAG_CONTINUED) !== 0;
      if (!continued && pending.length > 0) fail(at, 'previous packet is unfinished but this page is not a continuation');
      // A continuation with nothing pending means the stream was cut mid-packet: drop that partial packet.
      let dropping = continued && pending.length === 0;
      let off = bodyStart;
      let segStart = off;
      for (let i = 0; i < lacing.length; i++) {
        off += lacing[i]!;
        // A lacing value below 255 ends the packet; 255 means it continues (possibly on the next page).
        if (lacing[i]! < 255) {
          if (!dropping) {
            pending.push(bytes.subarray(segStart, off));
            packets.push({ data: concat(pending), granule });
          }
          dropping = false;
          pending = [];
          segStart = off;
        }
      }
      if (segStart < off && !dropping) pending.push(bytes.subarray(segStart, off));
      if (flags & FLAG_EOS) break;
    }
    at = pageEnd;
  }
  if (pending.length > 0) throw new Error(`${name}: last packet is unfinished (file truncated?)`);
  return { serial: serial ?? 0, packets };
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface OpusHead {
  version: number;
  channels: number;
  /** Samples at 48 kHz to drop from the start of the decoded stream. */
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
}

const opusHeadSchema = z.object({
  version: z.number().int().min(0).max(15, { error: 'major version must be 0' }),
  channels: z.number().int().min(1).max(255),
  preSkip: z.number().int().min(0),
  inputSampleRate: z.number().int().min(0),
  outputGain: z.number().int(),
  mappingFamily: z.number().int().min(0).max(255),
});

function ascii(bytes: Uint8Array, length: number): string {
  let s = '';
  for (let i = 0; i < Math.min(length, bytes.length); i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Opus packets of an Ogg Opus file, without the OpusHead and OpusTags header packets. */
export function demuxOggOpus(bytes: Uint8Array, name = 'Ogg Opus'): { head: OpusHead; packets: Uint8Array[] } {
  const { packets } = readOggPackets(bytes, name);
  const first = packets[0]?.data;
  if (!first || first.length < 19 || ascii(first, 8) !== 'OpusHead') throw new Error(`${name}: first packet is not OpusHead`);
  const dv = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const parsed = opusHeadSchema.safeParse({
    version: first[8]!,
    channels: first[9]!,
    preSkip: dv.getUint16(10, true),
    inputSampleRate: dv.getUint32(12, true),
    outputGain: dv.getInt16(16, true),
    mappingFamily: first[18]!,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${name}: OpusHead field ${issue.path.join('.')}: ${issue.message}`);
  }
  const tags = packets[1]?.data;
  if (!tags || ascii(tags, 8) !== 'OpusTags') throw new Error(`${name}: second packet is not OpusTags`);
  return { head: parsed.data, packets: packets.slice(2).map((p) => p.data) };
}

export interface OggOpusOptions {
  channels: number;
  /** Default 0: the packets are assumed to start exactly on the wanted timeline. */
  preSkip?: number;
  inputSampleRate?: number;
  /** Samples (at 48 kHz) per packet, for granule positions. Default 960 (20 ms). */
  samplesPerPacket?: number;
  serial?: number;
  vendor?: string;
  /** At most this many lacing values per page (max 255); small values force packets to span pages. */
  maxSegmentsPerPage?: number;
  /** Close a page after this many packets have ended on it (default 50 = 1 s at 20 ms). */
  maxPacketsPerPage?: number;
}

function makePage(flags: number, granule: bigint, serial: number, seq: number, lacing: number[], body: Uint8Array[]): Uint8Array {
  let bodyLength = 0;
  for (const b of body) bodyLength += b.length;
  const page = new Uint8Array(27 + lacing.length + bodyLength);
  const view = new DataView(page.buffer);
  page.set([0x4f, 0x67, 0x67, 0x53], 0);
  page[4] = 0;
  page[5] = flags;
  view.setBigInt64(6, granule, true);
  view.setUint32(14, serial, true);
  view.setUint32(18, seq, true);
  page[26] = lacing.length;
  page.set(lacing, 27);
  let at = 27 + lacing.length;
  for (const b of body) {
    page.set(b, at);
    at += b.length;
  }
  view.setUint32(22, oggCrc(page), true);
  return page;
}

/** Write an Ogg Opus file (OpusHead, OpusTags, then the packets). Deterministic for the same input. */
export function muxOggOpus(packets: readonly Uint8Array[], options: OggOpusOptions): Uint8Array {
  const preSkip = options.preSkip ?? 0;
  const spp = options.samplesPerPacket ?? 960;
  const serial = options.serial ?? 0x52544d53; // "RTMS"
  const maxSegments = Math.min(255, Math.max(1, options.maxSegmentsPerPage ?? 255));
  const maxPackets = Math.max(1, options.maxPacketsPerPage ?? 50);
  if (options.channels < 1 || options.channels > 2) throw new Error('muxOggOpus: channels must be 1 or 2');

  const head = new Uint8Array(19);
  const hv = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'), 0);
  head[8] = 1;
  head[9] = options.channels;
  hv.setUint16(10, preSkip, true);
  hv.setUint32(12, options.inputSampleRate ?? 48000, true);
  hv.setInt16(16, 0, true);
  head[18] = 0; // mapping family 0: mono or stereo
  const vendor = new TextEncoder().encode(options.vendor ?? 'rtms-mock');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  const tv = new DataView(tags.buffer);
  tags.set(new TextEncoder().encode('OpusTags'), 0);
  tv.setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  tv.setUint32(12 + vendor.length, 0, true);

  const pages: Uint8Array[] = [];
  let seq = 0;
  // Header packets each get a page of their own (RFC 7845 §3), granule 0.
  pages.push(makePage(FLAG_BOS, 0n, serial, seq++, lacingFor(head.length), [head]));
  pages.push(makePage(0, 0n, serial, seq++, lacingFor(tags.length), [tags]));

  let lacing: number[] = [];
  let body: Uint8Array[] = [];
  let pageContinued = false; // does the page being built start inside a packet?
  let endedOnPage = 0;
  let granule = BigInt(preSkip);
  let pageGranule = -1n; // -1: no packet ends on this page (RFC 3533)
  const flush = (last: boolean) => {
    pages.push(makePage((pageContinued ? FLAG_CONTINUED : 0) | (last ? FLAG_EOS : 0), pageGranule, serial, seq++, lacing, body));
    lacing = [];
    body = [];
    endedOnPage = 0;
    pageGranule = -1n;
    pageContinued = false;
  };
  for (let p = 0; p < packets.length; p++) {
    const packet = packets[p]!;
    const values = lacingFor(packet.length);
    let offset = 0;
    for (let i = 0; i < values.length; i++) {
      if (lacing.length === maxSegments) {
        flush(false);
        pageContinued = i > 0;
      }
      const v = values[i]!;
      lacing.push(v);
      body.push(packet.subarray(offset, offset + v));
      offset += v;
    }
    granule += BigInt(spp);
    pageGranule = granule;
    endedOnPage++;
    if (endedOnPage >= maxPackets && p < packets.length - 1) flush(false);
  }
  flush(true);
  let total = 0;
  for (const pg of pages) total += pg.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const pg of pages) {
    out.set(pg, at);
    at += pg.length;
  }
  return out;
}

function lacingFor(length: number): number[] {
  const values: number[] = [];
  let n = length;
  while (n >= 255) {
    values.push(255);
    n -= 255;
  }
  values.push(n); // a final value < 255 (0 when the length is a multiple of 255) ends the packet
  return values;
}
