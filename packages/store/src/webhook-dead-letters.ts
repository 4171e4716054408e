import type { OfflineWebhook } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';

/** An offline webhook given up on: rejected by the receiver (4xx) or out of attempts. */
export interface WebhookDeadLetter {
  failedAt: string;
  attempts: number;
  /** The receiver's status, when it answered. */
  status: number | null;
  error: string;
  webhook: OfflineWebhook;
}

/** Dead letters kept, newest first: an operator's list to look at, not an unbounded log. */
const DEAD_LETTERS_KEPT = 10_000;

/** The dead-letter list of offline webhooks (keys.webhookDeadLetters()), newest first. */
export function createWebhookDeadLetters(redis: Redis, keys: Keys) {
  const key = keys.webhookDeadLetters();
  return {
    async add(entry: WebhookDeadLetter): Promise<void> {
      await guardRedis(redis.lpush(key, JSON.stringify(entry)));
      await guardRedis(redis.ltrim(key, 0, DEAD_LETTERS_KEPT - 1));
    },
    async list(limit = 100): Promise<WebhookDeadLetter[]> {
      const entries = await guardRedis(redis.lrange(key, 0, limit - 1));
      return entries.map((entry) => JSON.parse(entry) as WebhookDeadLetter);
    },
  };
}

export type WebhookDeadLetters = ReturnType<typeof createWebhookDeadLetters>;
