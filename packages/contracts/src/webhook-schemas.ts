import { z } from 'zod';
import { summarySchema } from './domain-schemas.js';
import { usernameSchema } from './identifiers.js';

/**
 * Offline notifications: the worker finds, after publishing a message, the members (author
 * excluded) with no live socket on any replica, and POSTs one body per message to WEBHOOK_URL
 * through a BullMQ queue of its own, so a slow receiver never holds up a delivery.
 */

export const WEBHOOK_QUEUE = 'webhooks';
export const WEBHOOK_JOB = 'message.offline';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with WEBHOOK_SECRET>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Chat-Signature';

/** The POSTed body, and the job that carries it until it is sent. */
export const offlineWebhookSchema = z.strictObject({
  event: z.literal(WEBHOOK_JOB),
  message: summarySchema,
  recipients: z.array(usernameSchema).min(1).describe('Members with no live socket when the message was delivered (author excluded)'),
});

export type OfflineWebhook = z.infer<typeof offlineWebhookSchema>;
