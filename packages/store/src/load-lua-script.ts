import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * packages/store/lua: one level above src/ (run by tsx) and dist/ (run by node) alike, so the same
 * path serves both; the package ships the folder beside dist/ (see the Dockerfile).
 */
export const LUA_DIR = fileURLToPath(new URL('../lua/', import.meta.url));

/** `--- @include "includes/rate-hit"`: a fragment, relative to the including file, `.lua` implied. */
const INCLUDE = /^--- @include "([^"]+)"[ \t]*$/gm;

/** `<kebab-name>-<numberOfKeys>`, as BullMQ names its src/commands/*.lua. */
const SCRIPT_FILE = /^([a-z]+(?:-[a-z]+)*)-(\d+)$/;

export interface LuaScriptSource {
  /** The ioredis command name: the file's name in camelCase (`append-message-4` → `appendMessage`). */
  readonly name: string;
  readonly numberOfKeys: number;
  /** The script with every include inlined, each fragment once. */
  readonly lua: string;
}

function inline(path: string, included: Set<string>, including: readonly string[]): string {
  if (including.includes(path)) {
    throw new Error(`Lua include cycle: ${[...including, path].map((p) => relative(LUA_DIR, p)).join(' → ')}`);
  }
  return readFileSync(path, 'utf8').replace(INCLUDE, (_line, target: string) => {
    const fragment = join(dirname(path), target.endsWith('.lua') ? target : `${target}.lua`);
    if (included.has(fragment)) return '';
    included.add(fragment);
    return inline(fragment, included, [...including, path]).trimEnd();
  });
}

/** Reads `lua/<file>.lua` and inlines its includes, as BullMQ's script loader does. */
export function loadLuaScript(file: string): LuaScriptSource {
  const match = SCRIPT_FILE.exec(file);
  if (!match) throw new Error(`Lua script file ${file} is not named <kebab-name>-<numberOfKeys>`);
  const [, kebabName = '', keyCount = ''] = match;
  return {
    name: kebabName.replace(/-([a-z])/g, (_dash, letter: string) => letter.toUpperCase()),
    numberOfKeys: Number(keyCount),
    lua: inline(join(LUA_DIR, `${file}.lua`), new Set(), []),
  };
}
