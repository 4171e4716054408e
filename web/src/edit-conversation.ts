import type { ChatApi, Conversation, UpdateConversationInput } from '@chat/client';
import { openConversationDialog } from './conversation-dialog.js';

/** Asks for a new title and people to add, changes the conversation, and hands over the result. */
export function editConversation(api: ChatApi, conversation: Conversation, onUpdated: (conversation: Conversation) => void): void {
  const id = conversation.id;
  openConversationDialog({
    heading: 'Edit conversation',
    submitLabel: 'Save',
    title: conversation.title,
    peopleLabel: 'Add people',
    peopleHint: 'Usernames to add, separated by commas.',
    members: conversation.users,
    peopleRequired: false,
    onSubmit: async ({ title, people }) => {
      // Members as they are now, not as this page last saw them: adding must not drop anyone.
      const current = await api.getConversation(id);
      const changes: UpdateConversationInput = {};
      if (title !== current.title) changes.title = title;
      const added = people.filter((user) => !current.users.includes(user));
      if (added.length > 0) changes.users = [...current.users, ...added];
      onUpdated(changes.title === undefined && changes.users === undefined ? current : await api.updateConversation(id, changes));
    },
  });
}
