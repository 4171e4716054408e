import type { ChatApi, Message } from '@chat/client';
import { html } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';
import { describeError } from './describe-error.js';
import { openModalForm } from './modal-form.js';

/**
 * The form to edit one's own message (modal-form.ts): the text as it is; the api's error message
 * appears in it when the request fails (a message deleted meanwhile is 409).
 */
export function editMessage(api: ChatApi, message: Message, onChanged: (message: Message) => void): void {
  const textRef = createRef<HTMLTextAreaElement>();
  openModalForm({
    className: 'conversation-dialog message-dialog',
    heading: 'Edit message',
    submitLabel: 'Save',
    fields: (id) => html`<label for=${`${id}-text`}>Message</label>
      <textarea id=${`${id}-text`} name="text" rows="3" maxlength="4000" ${ref(textRef)}>${message.text}</textarea>`,
    onSubmit: (form) => {
      const text = (textRef.value as HTMLTextAreaElement).value.trim();
      if (text === '') {
        form.show('Write something, or delete the message instead.', false);
        return;
      }
      if (text === message.text) {
        form.close();
        return;
      }
      form.show('', true);
      api.editMessage(message.conversationId, message.seq, text).then(
        (changed) => {
          onChanged(changed);
          form.close();
        },
        (failure: unknown) => {
          if (form.closed) return;
          form.show(describeError(failure), false);
          textRef.value?.focus();
        },
      );
    },
  });
  textRef.value?.focus();
}

/** Deletes one's own message (after the browser's confirmation) and hands over the tombstone. */
export function deleteMessage(api: ChatApi, message: Message, onChanged: (message: Message) => void, onFailed: (error: unknown) => void): void {
  if (!window.confirm('Delete this message for everyone?')) return;
  api.deleteMessage(message.conversationId, message.seq).then(onChanged, onFailed);
}
