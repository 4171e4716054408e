/** The shapes users see on the wire (CONTRACT.md, "api service"). Times are ISO-8601 UTC strings. */

export interface User {
  username: string;
  createdAt: string;
}

export interface Conversation {
  id: string;
  title: string;
  /** Members, sorted by username so the answer is stable. */
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

/** What the worker publishes and the gateway delivers: a Message plus what a notification needs. */
export interface Summary extends Message {
  conversationTitle: string;
}

export interface AuthResult {
  user: User;
  token: string;
  expiresAt: string;
}
