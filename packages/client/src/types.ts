/**
 * The wire shapes this SDK reads and writes (wire contract version 1 and its 1.1 additions), as @chat/contracts infers them from its zod schemas. Type-only: the published
 * declarations (dist/index.d.ts, see scripts/build.mjs) inline them, so the package depends on
 * neither @chat/contracts nor zod. Times are ISO-8601 UTC strings.
 */
export type {
  AuthFrame,
  AuthResult,
  ClientFrame,
  Conversation,
  ConversationFrame,
  CreateConversationInput,
  ErrorCode,
  ErrorFrame,
  Message,
  MessageFrame,
  MessageUpdatedFrame,
  MessagePage,
  MessagePageBefore,
  PingFrame,
  PresenceFrame,
  PresenceItem,
  PresenceList,
  PongFrame,
  ReadFrame,
  ReadState,
  ReadyFrame,
  ResumedFrame,
  ResumeFrame,
  ServerFrame,
  Summary,
  TypingClientFrame,
  TypingFrame,
  UpdateConversationInput,
  User,
} from '@chat/contracts';

/** Limits of the gateway that the SDK stays within (inlined into the bundle). */
export { PRESENCE_QUERY_MAX, RESUME_CURSORS_MAX, TYPING_THROTTLE_MS } from '@chat/contracts/limits';
