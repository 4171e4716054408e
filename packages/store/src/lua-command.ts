import type { Redis } from 'ioredis';
import { loadLuaScript } from './load-lua-script.js';

export type LuaArgument = string | number;

/**
 * One script of packages/store/lua, typed: its KEYS, its ARGV (both as the file's header states
 * them) and its reply. Run through ioredis `defineCommand`, which sends EVALSHA, and the script
 * itself the first time on each connection and after a NOSCRIPT (a Redis restart).
 */
export interface LuaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Reply> {
  run(redis: Redis, keys: Keys, args: Args): Promise<Reply>;
}

type ScriptMethod = (this: Redis, ...keysAndArgs: LuaArgument[]) => Promise<unknown>;

/**
 * Loads `lua/<file>.lua` now (a missing file fails at import, not on the first request) and defines
 * it on each connection the first time it runs there: a connection carries only the scripts its
 * process uses, because ioredis copies every defined script onto each auto-pipeline it creates.
 */
export function luaCommand<Keys extends readonly string[], Args extends readonly LuaArgument[], Reply>(
  file: string,
): LuaCommand<Keys, Args, Reply> {
  const { name, numberOfKeys, lua } = loadLuaScript(file);
  const definedOn = new WeakSet<Redis>();
  return {
    async run(redis, keys, args) {
      if (keys.length !== numberOfKeys) throw new Error(`${file}.lua takes ${numberOfKeys} keys, got ${keys.length}`);
      if (!definedOn.has(redis)) {
        redis.defineCommand(name, { numberOfKeys, lua });
        definedOn.add(redis);
      }
      // defineCommand adds the method under `name`; ioredis's types cannot know it.
      const method = (redis as unknown as Record<string, ScriptMethod>)[name] as ScriptMethod;
      return (await method.call(redis, ...keys, ...args)) as Reply;
    },
  };
}
