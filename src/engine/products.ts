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
