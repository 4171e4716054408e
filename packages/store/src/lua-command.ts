import type { Redis } from './connect-redis.js';
import { loadLuaScript } from './load-lua-script.js';

export type LuaArgument = string | number;

/**
 * One script of packages/store/lua, typed: its KEYS, its ARGV (both as the file's header states
 * them) and its reply. Run through ioredis `defineCommand`, which sends EVALSHA, and the script
 * itself the first time on each connection and after a NOSCRIPT (a Redis restart).
 */
export interface LuaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Reply> {
  /** Adds the command to `redis` (once). */
  define(redis: Redis): void;
  /** Runs it, defining it first if that is still safe (see defineStoreScripts). */
  run(redis: Redis, keys: Keys, args: Args): Promise<Reply>;
}

type ScriptMethod = (this: Redis, ...keysAndArgs: LuaArgument[]) => Promise<unknown>;

/** Loads `lua/<file>.lua` now: a missing file fails at import, not on the first request. */
export function luaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Reply>(
  file: string,
): LuaCommand<Keys, Args, Reply> {
  const { name, numberOfKeys, lua } = loadLuaScript(file);
  const definedOn = new WeakSet<Redis>();

  function define(redis: Redis): void {
    if (definedOn.has(redis)) return;
    redis.defineCommand(name, { numberOfKeys, lua });
    definedOn.add(redis);
  }

  return {
    define,
    async run(redis, keys, args) {
      if (keys.length !== numberOfKeys) throw new Error(`${file}.lua takes ${numberOfKeys} keys, got ${keys.length}`);
      if (!definedOn.has(redis)) {
        // A pending auto-pipeline was created without this command: calling it there would throw
        // inside ioredis, outside any promise. With none pending, defining it now is safe.
        if (redis.options.enableAutoPipelining && redis.autoPipelineQueueSize > 0) {
          throw new Error(`${file}.lua is not defined on this auto-pipelining connection: create it with connectRedis`);
        }
        define(redis);
      }
      // defineCommand adds the method under `name`; ioredis's types cannot know it.
      const method = (redis as unknown as Record<string, ScriptMethod>)[name] as ScriptMethod;
      return (await method.call(redis, ...keys, ...args)) as Reply;
    },
  };
}
