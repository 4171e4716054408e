/**
 * The wire shapes this SDK reads and writes (CONTRACT.md, version 1). Copied, not imported, so the
 * package has no dependency on the server's packages; keep them in step with
 * packages/contracts/src/domain.ts and frames.ts. Times are ISO-8601 UTC strings.
 */

export interface User {
  username: string;
  createdAt: string;
}

export interface Conversation {
  id: string;
  title: string;
  /** Members, sorted by username. */
  users: string[];
  createdAt: string;
  createdBy: string;
}

export interface Message {
  id: string;
  conversationId: string;
  /** 1, 2, 3 … within one conversation: no gaps, no repeats, in acceptance order. */
  seq: number;
  author: string;
  text: string;
  createdAt: string;
}

/** What the live connection delivers: a Message plus what a notification needs. */
export interface Summary extends Message {
  conversationTitle: string;
}

export interface AuthResult {
  user: User;
  token: string;
  expiresAt: string;
}

/** One page of `GET /api/conversations/:id/messages`. */
export interface MessagePage {
  /** Ascending seq. */
  items: Message[];
  /** Pass as `after` to read the next page; null when there is none. */
  nextAfter: number | null;
}

export interface CreateConversationInput {
  title: string;
  /** Other members; the creator is always a member. */
  users: string[];
}

export interface UpdateConversationInput {
  title?: string;
  /** The new member list; the caller stays a member. */
  users?: string[];
}

/** Client → server frames. */

export interface ResumeFrame {
  type: 'resume';
  /** Last seq seen per conversation. */
  cursors: Record<string, number>;
  /** The store epoch the cursors were seen under (from the last `ready`). */
  epoch?: string;
}

export interface AuthFrame {
  type: 'auth';
  token: string;
}

export interface PingFrame {
  type: 'ping';
}

export type ClientFrame = ResumeFrame | AuthFrame | PingFrame;

/** Server → client frames. */

export interface ReadyFrame {
  type: 'ready';
  user: string;
  epoch: string;
}

export interface MessageFrame {
  type: 'message';
  data: Summary;
}

export interface ResumedFrame {
  type: 'resumed';
  recovered: boolean;
  /** With `recovered: false`: the conversations whose history no longer reaches back to the cursor. */
  conversations?: string[];
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

export interface PongFrame {
  type: 'pong';
}

export type ServerFrame = ReadyFrame | MessageFrame | ResumedFrame | ErrorFrame | PongFrame;

/** Limits of the gateway that the SDK stays within. */
export const RESUME_CURSORS_MAX = 1000;
