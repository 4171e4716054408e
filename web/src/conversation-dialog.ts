import { html, nothing } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';
import { describeError } from './describe-error.js';
import { openModalForm } from './modal-form.js';
import { parseUsernames } from './usernames.js';

export interface ConversationFormValues {
  title: string;
  /** Usernames typed in the people field, parsed. */
  people: string[];
}

export interface ConversationDialogOptions {
  heading: string;
  submitLabel: string;
  title: string;
  peopleLabel: string;
  peopleHint: string;
  /** Present members, shown read-only (editing). */
  members?: readonly string[];
  /** Whether at least one username must be given. */
  peopleRequired: boolean;
  /** Does the work; a rejection's message is shown in the dialog, which then stays open. */
  onSubmit: (values: ConversationFormValues) => Promise<void>;
}

/**
 * The form to start a conversation or change one (modal-form.ts): the api's error message appears
 * in it when the request fails.
 */
export function openConversationDialog(options: ConversationDialogOptions): void {
  const titleRef = createRef<HTMLInputElement>();
  const peopleRef = createRef<HTMLInputElement>();
  openModalForm({
    className: 'conversation-dialog',
    heading: options.heading,
    submitLabel: options.submitLabel,
    fields: (id) => html`<label for=${`${id}-title`}>Title</label>
      <input id=${`${id}-title`} name="title" type="text" required maxlength="200" autocomplete="off" value=${options.title} ${ref(titleRef)} />
      ${options.members ? html`<p class="dialog-members"><span class="label">Members: </span>${options.members.join(', ')}</p>` : nothing}
      <label for=${`${id}-people`}>${options.peopleLabel}</label>
      <input
        id=${`${id}-people`}
        name="people"
        type="text"
        autocomplete="off"
        autocapitalize="none"
        spellcheck="false"
        placeholder="alice, bob"
        aria-describedby=${`${id}-people-hint`}
        ?required=${options.peopleRequired}
        ${ref(peopleRef)}
      />
      <p class="hint" id=${`${id}-people-hint`}>${options.peopleHint}</p>`,
    onSubmit: (form) => {
      const titleInput = titleRef.value as HTMLInputElement;
      const peopleInput = peopleRef.value as HTMLInputElement;
      const title = titleInput.value.trim();
      const people = parseUsernames(peopleInput.value);
      if (title === '' || (options.peopleRequired && people.length === 0)) {
        form.show(title === '' ? 'Give the conversation a title.' : 'Name at least one person by username.', false);
        (title === '' ? titleInput : peopleInput).focus();
        return;
      }
      form.show('', true);
      options.onSubmit({ title, people }).then(form.close, (failure: unknown) => {
        // Cancelled meanwhile: another dialog may be showing; leave it alone.
        if (form.closed) return;
        form.show(describeError(failure), false);
        peopleInput.focus();
      });
    },
  });
  titleRef.value?.focus();
}
