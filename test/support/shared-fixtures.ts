import { after, before } from 'node:test';
import { startApiInProcess, type ApiInProcess, type ApiInProcessOptions } from './api-app.js';
import type { RegisteredUser } from './api-client.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { connectClient, type TestSocket } from './ws-client.js';

/*
 * What a test file (or one of its suites) starts once for all its tests: called at a file's top
 * level, for the whole file; inside a `describe`, for that suite. Each registers the `before` that
 * starts it and the `after` that stops it, the preamble the api and end-to-end test files each
 * repeated.
 */

/**
 * What a test sets up on a shared fixture, run in the fixture's own hooks: a second `before` at a
 * file's top level runs as soon as it is registered, without waiting for the fixture's.
 */
export interface Alongside<T> {
  /** Once the fixture has started. */
  start?(started: T): void | Promise<void>;
  /** Before the fixture stops. */
  stop?(): Promise<void>;
}

/**
 * Starts `start()` before the tests around the call and `stop`s it after them. The object returned
 * stands for the started value; reading it before the `before` hook ran (at module load) throws.
 */
function sharedAroundTests<T extends object>(start: () => Promise<T>, stop: (started: T) => Promise<void>, alongside?: Alongside<T>): T {
  let started: T | undefined;
  before(async () => {
    started = await start();
    await alongside?.start?.(started);
  });
  after(async () => {
    await alongside?.stop?.();
    if (started) await stop(started);
  });
  return new Proxy({} as T, {
    get(_, property) {
      if (!started) throw new Error(`read ${String(property)} before the shared fixture started: use it in a test or a later hook`);
      return Reflect.get(started, property) as unknown;
    },
  });
}

/** One api in process (api-app.ts) for the tests around the call. */
export function sharedApiInProcess(options: ApiInProcessOptions = {}, alongside?: Alongside<ApiInProcess>): ApiInProcess {
  return sharedAroundTests(
    () => startApiInProcess(options),
    (app) => app.stop(),
    alongside,
  );
}

export interface SharedStack {
  stack: Stack;
  /** Closed after the tests, before the stack stops; `connect` adds to it, a test may too. */
  sockets: TestSocket[];
  /** A socket of `user` on gateway replica `replica`, closed after the tests. */
  connect(replica: number, user: RegisteredUser): Promise<TestSocket>;
}

/** One whole stack (stack.ts) for the tests around the call, and their sockets closed after them. */
export function sharedStack(options: StackOptions = {}): SharedStack {
  const sockets: TestSocket[] = [];
  const stack = sharedAroundTests(
    () => startStack(options),
    (started) => started.stop(),
    {
      stop: async () => {
        await Promise.all(sockets.map((socket) => socket.close()));
      },
    },
  );
  return {
    stack,
    sockets,
    async connect(replica, user) {
      const socket = await connectClient(stack.wsUrls[replica] as string, user.token);
      sockets.push(socket);
      return socket;
    },
  };
}
