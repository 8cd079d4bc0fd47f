// zod schemas for what the webhook side reads from the outside world (spec §9).

import { z } from 'zod';

/** The app's answer to `endpoint.url_validation` (spec §9). Extra keys are tolerated. */
export const UrlValidationResponse = z.object({
  plainToken: z.string(),
  encryptedToken: z.string(),
});
export type UrlValidationResponse = z.infer<typeof UrlValidationResponse>;

/** Envelope of every webhook body (spec §9): payload is flat. Used by receivers and tests reading our bytes. */
export const WebhookBody = z.object({
  event: z.string().min(1),
  event_ts: z.number().int().nonnegative(),
  payload: z.record(z.string(), z.unknown()),
});
export type WebhookBody = z.infer<typeof WebhookBody>;
