import { ConflictError, type User } from '@chat/contracts';
import type { Redis } from './connect-redis.js';
import type { Keys } from './keys.js';
import { guardRedis } from './redis-failure.js';

interface StoredUser extends User {
  passwordHash: string;
}

export interface UserWithSecret {
  user: User;
  passwordHash: string;
}

export function createUserStore(redis: Redis, keys: Keys) {
  return {
    /** Creates the user, or throws ConflictError when the name is taken (atomically: SET NX). */
    async create(username: string, passwordHash: string, createdAt: string): Promise<User> {
      const record: StoredUser = { username, createdAt, passwordHash };
      const created = await guardRedis(redis.set(keys.user(username), JSON.stringify(record), 'NX'));
      if (created !== 'OK') throw new ConflictError('username is taken');
      return { username, createdAt };
    },

    async find(username: string): Promise<UserWithSecret | undefined> {
      const raw = await guardRedis(redis.get(keys.user(username)));
      if (raw === null) return undefined;
      const record = JSON.parse(raw) as StoredUser;
      return { user: { username: record.username, createdAt: record.createdAt }, passwordHash: record.passwordHash };
    },

    /** The subset of `usernames` that has no account: one command each, auto-pipelined (each user in their own slot). */
    async missing(usernames: readonly string[]): Promise<string[]> {
      const exists = await Promise.all(usernames.map((username) => guardRedis(redis.exists(keys.user(username)))));
      return usernames.filter((_, index) => exists[index] === 0);
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
