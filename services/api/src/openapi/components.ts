import { z } from 'zod';
import {
  authResultSchema,
  conversationListSchema,
  conversationSchema,
  createConversationSchema,
  credentialsSchema,
  editMessageSchema,
  emptyBodySchema,
  errorBodySchema,
  healthSchema,
  markReadSchema,
  readStateSchema,
  messagePageBeforeSchema,
  messagePageSchema,
  messageSchema,
  postMessageSchema,
  presenceListSchema,
  updateConversationSchema,
  userSchema,
} from '@chat/contracts';

/**
 * The names the document gives the contract's schemas (`#/components/schemas/<name>`). A route's
 * body and JSON answer must be one of these, so the document refers to them rather than repeating
 * them. Two registries, because a request is described as a client sends it (`io: 'input'`) and
 * an answer as the api sends it (`io: 'output'`).
 */
export type ComponentMeta = { id: string };

export const requestComponents = z.registry<ComponentMeta>();
requestComponents.add(credentialsSchema, { id: 'Credentials' });
requestComponents.add(createConversationSchema, { id: 'CreateConversation' });
requestComponents.add(updateConversationSchema, { id: 'UpdateConversation' });
requestComponents.add(postMessageSchema, { id: 'PostMessage' });
requestComponents.add(emptyBodySchema, { id: 'EmptyBody' });
requestComponents.add(markReadSchema, { id: 'MarkRead' });
requestComponents.add(editMessageSchema, { id: 'EditMessage' });

export const responseComponents = z.registry<ComponentMeta>();
responseComponents.add(userSchema, { id: 'User' });
responseComponents.add(authResultSchema, { id: 'AuthResult' });
responseComponents.add(conversationSchema, { id: 'Conversation' });
responseComponents.add(conversationListSchema, { id: 'ConversationList' });
responseComponents.add(messageSchema, { id: 'Message' });
responseComponents.add(messagePageSchema, { id: 'MessagePage' });
responseComponents.add(messagePageBeforeSchema, { id: 'MessagePageBefore' });
responseComponents.add(readStateSchema, { id: 'ReadState' });
responseComponents.add(presenceListSchema, { id: 'PresenceList' });
responseComponents.add(healthSchema, { id: 'Health' });
responseComponents.add(errorBodySchema, { id: 'Error' });

/** Statements a zod refinement makes that JSON Schema cannot express, by component. */
export const REFINEMENTS: Record<string, { minProperties?: number; description: string }> = {
  UpdateConversation: { minProperties: 1, description: 'Give `title`, `users` or both.' },
};
