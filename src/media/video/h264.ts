// H.264 Annex-B helpers: find NAL units and group them into access units (one coded picture each), because the
// protocol sends one access unit per video message with SPS/PPS before each key frame (spec §8).
// References: ITU-T H.264 §7.4.1.2.3 (order of NAL units and access unit boundaries), Annex B (byte stream).

/** nal_unit_type values used here (H.264 Table 7-1). */
export const NalType = {
  SLICE: 1,
  SLICE_PARTITION_A: 2,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
} as const;

export interface NalUnit {
  /** nal_unit_type (low 5 bits of the header byte). */
  type: number;
  /** The NAL unit without its start code (header byte first). */
  data: Uint8Array;
}

const START_CODE = new Uint8Array([0, 0, 0, 1]);

/** Splits an Annex-B byte stream into NAL units. Trailing zero bytes (next 4-byte start code, padding) are trimmed. */
export function parseNalUnits(stream: Uint8Array): NalUnit[] {
  const units: NalUnit[] = [];
  const n = stream.length;
  let i = 0;
  let start = -1; // first byte after the current start code
  while (i + 2 < n) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      if (start >= 0) pushUnit(units, stream, start, i);
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0) pushUnit(units, stream, start, n);
  return units;
}

function pushUnit(units: NalUnit[], stream: Uint8Array, start: number, end: number): void {
  let e = end;
  while (e > start && stream[e - 1] === 0) e--;
  if (e <= start) return;
  const data = stream.subarray(start, e);
  units.push({ type: data[0]! & 0x1f, data });
}

function isVcl(type: number): boolean {
  return type >= NalType.SLICE && type <= NalType.IDR;
}

/**
 * Whether a VCL NAL unit starts a new picture: first_mb_in_slice (the first ue(v) of the slice header) is 0,
 * i.e. its first bit is 1. Exact for streams without arbitrary slice order, which is what x264 produces.
 */
function startsPicture(unit: NalUnit): boolean {
  return ((unit.data[1] ?? 0) & 0x80) !== 0;
}

export interface SplitOptions {
  /**
   * Drop access unit delimiters (NAL type 9). Default true: they only mark boundaries, and without them every
   * key-frame access unit begins with SPS and PPS (spec §8).
   */
  dropAud?: boolean;
}

/**
 * Groups an Annex-B stream into access units, each re-emitted with 4-byte start codes. AUD/SPS/PPS/SEI that
 * follow a picture open the next access unit (H.264 §7.4.1.2.3), so parameter sets travel with the key frame
 * they precede.
 */
export function splitAccessUnits(stream: Uint8Array, options: SplitOptions = {}): Uint8Array[] {
  const dropAud = options.dropAud ?? true;
  const aus: NalUnit[][] = [];
  let current: NalUnit[] = [];
  let hasPicture = false;
  const close = () => {
    if (current.length > 0) aus.push(current);
    current = [];
    hasPicture = false;
  };
  for (const unit of parseNalUnits(stream)) {
    const t = unit.type;
    const opensAu = t === NalType.AUD || t === NalType.SPS || t === NalType.PPS || t === NalType.SEI || (t >= 14 && t <= 18);
    if (hasPicture && (opensAu || (isVcl(t) && startsPicture(unit)))) close();
    if (!(dropAud && t === NalType.AUD)) current.push(unit);
    if (isVcl(t)) hasPicture = true;
    // End of sequence / stream close the access unit they belong to.
    if (t === NalType.END_OF_SEQUENCE || t === NalType.END_OF_STREAM) close();
  }
  close();
  return aus.map(joinUnits);
}

function joinUnits(units: readonly NalUnit[]): Uint8Array {
  let size = 0;
  for (const u of units) size += START_CODE.length + u.data.length;
  const out = new Uint8Array(size);
  let pos = 0;
  for (const u of units) {
    out.set(START_CODE, pos);
    out.set(u.data, pos + START_CODE.length);
    pos += START_CODE.length + u.data.length;
  }
  return out;
}

/** nal_unit_type of each NAL unit in an access unit (or any Annex-B fragment), in order. */
export function nalTypes(au: Uint8Array): number[] {
  return parseNalUnits(au).map((u) => u.type);
}

/** True if the access unit holds an IDR picture (NAL type 5): a decoder can start here. */
export function isKeyFrame(au: Uint8Array): boolean {
  return parseNalUnits(au).some((u) => u.type === NalType.IDR);
}

/** Number of coded pictures in an access unit (VCL NAL units with first_mb_in_slice = 0); 1 when well formed. */
export function pictureCount(au: Uint8Array): number {
  return parseNalUnits(au).filter((u) => isVcl(u.type) && startsPicture(u)).length;
}
