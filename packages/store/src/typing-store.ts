import { TYPING_THROTTLE_MS, typingEventParts, type TypingFrame } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';
import { STORE_SCRIPTS } from './store-scripts.js';

export type TypingOutcome = 'relayed' | 'throttled' | 'not_member';

/**
 * Typing indicators: never stored. One script per frame checks membership, throttles the user in
 * that conversation across every gateway (SET NX PX) and publishes one event on the conversation's
 * channel naming the other members (lua/relay-typing-2.lua).
 */
export function createTypingStore(redis: Redis, keys: Keys) {
  const { mark, memberSeparator, separator } = typingEventParts;
  return {
    async relay(frame: TypingFrame): Promise<TypingOutcome> {
      const { conversationId, user } = frame;
      const outcome = await guardRedis(
        STORE_SCRIPTS.relayTyping.run(
          redis,
          [keys.members(conversationId), keys.typingThrottle(conversationId, user)],
          [user, TYPING_THROTTLE_MS, keys.conversationChannel(conversationId), mark, memberSeparator, separator, JSON.stringify(frame), keys.publishCommand],
        ),
      );
      return outcome === 1 ? 'relayed' : outcome === 0 ? 'throttled' : 'not_member';
    },
  };
}

export type TypingStore = ReturnType<typeof createTypingStore>;
