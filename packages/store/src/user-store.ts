import { ConflictError, type User } from '@chat/contracts';
import type { Redis } from 'ioredis';
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

    /** The subset of `usernames` that has no account. One round trip. */
    async missing(usernames: readonly string[]): Promise<string[]> {
      if (usernames.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const username of usernames) pipeline.exists(keys.user(username));
      const results = await guardRedis(pipeline.exec());
      return usernames.filter((_, index) => {
        const [error, exists] = results?.[index] ?? [new Error('no reply'), 0];
        if (error) throw error;
        return exists === 0;
      });
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
