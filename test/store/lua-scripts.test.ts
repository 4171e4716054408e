import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { LUA_DIR, loadLuaScript } from '@chat/store';

const scriptFiles = readdirSync(LUA_DIR)
  .filter((name) => name.endsWith('.lua'))
  .map((name) => name.slice(0, -'.lua'.length));

describe('Lua scripts (packages/store/lua)', () => {
  test('are found', () => {
    assert.ok(scriptFiles.includes('deliver-message-4'), scriptFiles.join(', '));
  });

  for (const file of scriptFiles) {
    test(`${file}.lua loads with its includes inlined once, and its header states exactly its KEYS`, () => {
      const { name, numberOfKeys, lua } = loadLuaScript(file);
      assert.match(name, /^[a-z]+(?:[A-Z][a-z]+)+$/, 'camelCase, never a one-word name an ioredis command could have');
      assert.equal(numberOfKeys, Number(/-(\d+)$/.exec(file)?.[1]));
      assert.doesNotMatch(lua, /@include/);
      for (const fn of lua.matchAll(/^local function (\w+)/gm)) {
        assert.equal(lua.split(`local function ${fn[1]}(`).length, 2, `${fn[1]} is defined once`);
      }
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? '';
      assert.match(header, /Input:/);
      assert.match(header, /Output:/);
      const declared = [...header.matchAll(/KEYS\[(\d+)(?:\.\.(\d+))?\]/g)].map((m) => Number(m[2] ?? m[1]));
      assert.equal(Math.max(...declared), numberOfKeys);
    });
  }

  test('a missing script fails when it is loaded, naming the file', () => {
    assert.throws(() => loadLuaScript('no-such-script-1'), /no-such-script-1\.lua/);
  });
});
