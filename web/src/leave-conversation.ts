import { ChatApiError, type ChatApi, type Conversation } from '@chat/client';

export interface LeaveConversationDeps {
  api: ChatApi;
  /** The user is no longer a member (also when they had already left elsewhere): drop it. */
  onLeft: (id: string) => void;
  /** The api refused or could not be reached; the conversation stays. */
  onFailed: (id: string, error: unknown) => void;
}

/** Asks to confirm, then leaves the conversation (POST …/leave) and hands over the outcome. */
export function leaveConversation({ api, onLeft, onFailed }: LeaveConversationDeps, conversation: Conversation): void {
  const { id, title } = conversation;
  const last = conversation.users.length <= 1;
  const question = last
    ? `Leave “${title}”? You are its last member: it will be deleted with all its messages.`
    : `Leave “${title}”? You will no longer see it or receive its messages, unless someone adds you again.`;
  if (!window.confirm(question)) return;
  api.leaveConversation(id).then(
    () => onLeft(id),
    (error: unknown) => {
      // Not a member any more (left in another tab, or removed): the same outcome.
      if (error instanceof ChatApiError && error.status === 404) onLeft(id);
      else onFailed(id, error);
    },
  );
}
