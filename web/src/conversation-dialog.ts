import { el } from './dom.js';
import { describeError } from './describe-error.js';
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

let ids = 0;

/**
 * The form to start a conversation or change one, in a modal <dialog>: focus stays inside it,
 * Escape cancels, and the api's error message appears in it when the request fails.
 */
export function openConversationDialog(options: ConversationDialogOptions): HTMLDialogElement {
  const id = `conversation-dialog-${(ids += 1)}`;
  const error = el('p', { class: 'form-error', attrs: { role: 'alert', hidden: true } });
  const titleInput = el('input', {
    attrs: { id: `${id}-title`, name: 'title', type: 'text', required: true, maxlength: 200, autocomplete: 'off', value: options.title },
  });
  const peopleInput = el('input', {
    attrs: {
      id: `${id}-people`,
      name: 'people',
      type: 'text',
      autocomplete: 'off',
      autocapitalize: 'none',
      spellcheck: 'false',
      placeholder: 'alice, bob',
      'aria-describedby': `${id}-people-hint`,
      required: options.peopleRequired,
    },
  });
  const submit = el('button', { class: 'primary', attrs: { type: 'submit' } }, options.submitLabel);
  const cancel = el('button', { attrs: { type: 'button' } }, 'Cancel');

  const form = el(
    'form',
    { class: 'dialog-form', attrs: { novalidate: true } },
    el('h2', { attrs: { id: `${id}-heading` } }, options.heading),
    el('label', { attrs: { for: titleInput.id } }, 'Title'),
    titleInput,
    options.members
      ? el('p', { class: 'dialog-members' }, el('span', { class: 'label' }, 'Members: '), options.members.join(', '))
      : null,
    el('label', { attrs: { for: peopleInput.id } }, options.peopleLabel),
    peopleInput,
    el('p', { class: 'hint', attrs: { id: `${id}-people-hint` } }, options.peopleHint),
    error,
    el('div', { class: 'dialog-actions' }, cancel, submit),
  );
  const dialog = el('dialog', { class: 'conversation-dialog', attrs: { 'aria-labelledby': `${id}-heading` } }, form);

  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = text === '';
  };

  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const title = titleInput.value.trim();
    const people = parseUsernames(peopleInput.value);
    if (title === '') {
      showError('Give the conversation a title.');
      titleInput.focus();
      return;
    }
    if (options.peopleRequired && people.length === 0) {
      showError('Name at least one person by username.');
      peopleInput.focus();
      return;
    }
    showError('');
    submit.disabled = true;
    options.onSubmit({ title, people }).then(
      () => dialog.close(),
      (failure: unknown) => {
        submit.disabled = false;
        showError(describeError(failure));
        peopleInput.focus();
      },
    );
  });

  document.body.append(dialog);
  dialog.showModal();
  titleInput.focus();
  return dialog;
}
