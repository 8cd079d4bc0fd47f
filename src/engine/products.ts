// The four RTMS products: webhook event names, the instance id key used in payloads and handshakes, and the
// instance id the signature is computed over (spec §3.1, §3.2, §9).
import type { InstanceKey } from '../protocol/inbound.ts';

export type Product = 'meeting' | 'webinar' | 'session' | 'contact_center';
export const PRODUCTS: readonly Product[] = ['meeting', 'webinar', 'session', 'contact_center'];

export interface ProductInfo {
  idKey: InstanceKey;
  /** Webhook event name for started/stopped/interrupted. */
  event(kind: 'started' | 'stopped' | 'interrupted'): string;
}

export const PRODUCT_INFO: Record<Product, ProductInfo> = {
  meeting: { idKey: 'meeting_uuid', event: (k) => `meeting.rtms_${k}` },
  webinar: { idKey: 'webinar_uuid', event: (k) => `webinar.rtms_${k}` },
  session: { idKey: 'session_id', event: (k) => `session.rtms_${k}` },
  contact_center: { idKey: 'engagement_id', event: (k) => `contact_center.voice_rtms_${k}` },
};

/**
 * The instance part of every webhook payload of a product (spec §9): `meeting_uuid`, `webinar_uuid`,
 * `session_id` + `session_key` (Video SDK) or `engagement_id`. rtms_started adds operator_id for meetings and
 * webinars and server_urls; rtms_stopped adds stop_reason.
 */
export function instancePayload(m: { product: Product; uuid: string; sessionKey?: string | undefined }): Record<string, unknown> {
  const base: Record<string, unknown> = { [PRODUCT_INFO[m.product].idKey]: m.uuid };
  if (m.product === 'session' && m.sessionKey !== undefined) base.session_key = m.sessionKey;
  return base;
}
