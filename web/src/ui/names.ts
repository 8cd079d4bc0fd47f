// Human names for the protocol's numbers (spec §2, §6), from the server's own enum tables.
import { Codec, ContentType, DataOption, MsgType, Resolution, SAMPLE_RATE_HZ, StopReason, nameOf } from '../../../src/protocol/enums.ts';

export function msgName(t: number | string | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'number' ? nameOf(MsgType, t) : t;
}

export function stopReasonName(r: number | null | undefined): string {
  return r === null || r === undefined ? '' : `${r} ${nameOf(StopReason, r)}`;
}

const KEYS: Record<string, (v: number) => string> = {
  content_type: (v) => nameOf(ContentType, v),
  codec: (v) => nameOf(Codec, v),
  sample_rate: (v) => `${(SAMPLE_RATE_HZ[v] ?? v) / 1000} kHz`,
  channel: (v) => (v === 1 ? 'mono' : v === 2 ? 'stereo' : `${v} ch`),
  data_opt: (v) => nameOf(DataOption, v).replace(/^(AUDIO|VIDEO)_/, '').toLowerCase().replace(/_/g, ' '),
  send_rate: (v) => `every ${v} ms`,
  resolution: (v) => nameOf(Resolution, v),
  fps: (v) => `${v} fps`,
};

/** "audio: L16 16 kHz mono, every 20 ms, mixed stream · video: JPG HD 5 fps" */
export function describeParams(p: Record<string, Record<string, number> | undefined> | undefined): string {
  if (!p) return '';
  const parts: string[] = [];
  for (const [kind, params] of Object.entries(p)) {
    if (!params) continue;
    const bits = Object.entries(params).map(([k, v]) => (KEYS[k] ? KEYS[k]!(v) : `${k} ${v}`));
    parts.push(`${kind}: ${bits.join(', ')}`);
  }
  return parts.join(' · ');
}

export const PHASE_LABEL: Record<string, string> = {
  awaiting: 'waiting for the app',
  connected: 'app connected',
  active: 'streaming',
  paused: 'paused',
  interrupted: 'interrupted',
  stopped: 'stopped',
};
