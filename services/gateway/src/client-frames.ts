import type { RawData } from 'ws';
import type { TokenService } from '@chat/auth';
import { ChatError, clientFrameSchema, type ResumeFrame, type ResumedFrame } from '@chat/contracts';
import type { ConversationStore } from '@chat/store';
import type { Logger } from '@chat/logger';
import type { ClientConnection } from './client-connection.js';
import type { RelayTyping } from './typing-relay.js';

export interface ClientFramesDeps {
  tokens: TokenService;
  conversations: ConversationStore;
  logger: Logger;
  /** The store epoch this replica serves. */
  epoch: () => string | undefined;
  /**
   * Which conversations cursors seen under `clientEpoch` still resume under `currentEpoch`: none
   * on one Redis; on a cluster, those of the partitions whose history was kept (store-epoch.ts).
   */
  historyKept: (clientEpoch: string, currentEpoch: string) => Promise<(conversationId: string) => boolean>;
  onResume: () => void;
  relayTyping: RelayTyping;
}

/** Handles what a client sends: `resume`, `auth`, `ping` and `typing`; anything else gets an `error` frame. */
export function createClientFrameHandler(deps: ClientFramesDeps) {
  async function resume(client: ClientConnection, frame: ResumeFrame): Promise<void> {
    deps.onResume();
    const ids = Object.keys(frame.cursors);
    // Before any await: live frames for these conversations wait behind the replay.
    for (const id of ids) client.stream(id).hold();
    let memberships: boolean[];
    // Cursors from another epoch point into a history that is gone: nothing can be replayed.
    let sameHistory: (id: string) => boolean = () => true;
    try {
      memberships = await deps.conversations.memberships(client.username, ids);
      const current = deps.epoch();
      if (frame.epoch !== undefined && frame.epoch !== current) {
        sameHistory = current === undefined ? () => false : await deps.historyKept(frame.epoch, current);
      }
    } catch (error) {
      for (const id of ids) client.stream(id).release();
      throw error;
    }
    const outcomes = await Promise.all(
      ids.map(async (id, index) => {
        // Only the caller's conversations: a guessed id is skipped like one that does not exist.
        if (!memberships[index]) {
          client.dropStream(id);
          return { id, recovered: true };
        }
        if (!sameHistory(id)) {
          client.stream(id).release();
          return { id, recovered: false };
        }
        // Own properties only: an id like `constructor` must not find Object.prototype's.
        const revs = frame.revs && Object.hasOwn(frame.revs, id) ? frame.revs[id] : undefined;
        return { id, recovered: await client.stream(id).resumeFrom(frame.cursors[id] ?? 0, revs) };
      }),
    );
    const lost = outcomes.filter((outcome) => !outcome.recovered).map((outcome) => outcome.id);
    const resumed: ResumedFrame = lost.length === 0 ? { type: 'resumed', recovered: true } : { type: 'resumed', recovered: false, conversations: lost };
    client.sendJson(resumed);
  }

  function refreshToken(client: ClientConnection, token: string): void {
    const verified = deps.tokens.verify(token);
    if (verified.username !== client.username) {
      client.sendError('forbidden', 'the token is for another user');
      return;
    }
    client.expiresAtMs = verified.expiresAtMs;
  }

  async function handle(client: ClientConnection, data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) {
      client.sendError('invalid_request', 'frames are JSON text');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      client.sendError('invalid_json', 'the frame is not valid JSON');
      return;
    }
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      client.sendError('invalid_request', 'unknown or malformed frame');
      return;
    }
    const frame = parsed.data;
    try {
      switch (frame.type) {
        case 'ping':
          client.sendJson({ type: 'pong' });
          return;
        case 'auth':
          refreshToken(client, frame.token);
          return;
        case 'resume':
          await resume(client, frame);
          return;
        case 'typing':
          await deps.relayTyping(client, frame);
          return;
      }
    } catch (error) {
      if (error instanceof ChatError) {
        client.sendError(error.code, error.message);
        return;
      }
      deps.logger.error({ err: error, user: client.username, frame: frame.type }, 'client frame failed');
      client.sendError('internal', 'the frame could not be handled');
    }
  }

  return function onClientFrame(client: ClientConnection, data: RawData, isBinary: boolean): void {
    client.enqueueFrame(() => handle(client, data, isBinary));
  };
}
