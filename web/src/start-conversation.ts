import type { ChatApi, Conversation } from '@chat/client';
import { openConversationDialog } from './conversation-dialog.js';

/** Asks for a title and people, creates the conversation, and hands it over once the api has it. */
export function startConversation(api: ChatApi, me: string, onCreated: (conversation: Conversation) => void): void {
  openConversationDialog({
    heading: 'New conversation',
    submitLabel: 'Start',
    title: '',
    peopleLabel: 'People',
    peopleHint: 'Their usernames, separated by commas.',
    peopleRequired: true,
    onSubmit: async ({ title, people }) => {
      onCreated(await api.createConversation({ title, users: people.filter((user) => user !== me) }));
    },
  });
}
