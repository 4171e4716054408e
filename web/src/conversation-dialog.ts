import { html, nothing, render } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';
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
 * The form to start a conversation or change one, in a modal <dialog> at the end of the body:
 * focus stays inside it, Escape cancels, and the api's error message appears in it when the
 * request fails. Closing it removes it. One is open at a time (it is modal).
 */
export function openConversationDialog(options: ConversationDialogOptions): void {
  const id = `conversation-dialog-${(ids += 1)}`;
  const dialogRef = createRef<HTMLDialogElement>();
  const titleRef = createRef<HTMLInputElement>();
  const peopleRef = createRef<HTMLInputElement>();
  let error = '';
  let busy = false;
  let closed = false;

  const close = () => dialogRef.value?.close();
  const onClose = () => {
    closed = true;
    render(nothing, document.body);
  };
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const titleInput = titleRef.value as HTMLInputElement;
    const peopleInput = peopleRef.value as HTMLInputElement;
    const title = titleInput.value.trim();
    const people = parseUsernames(peopleInput.value);
    if (title === '' || (options.peopleRequired && people.length === 0)) {
      update(title === '' ? 'Give the conversation a title.' : 'Name at least one person by username.', false);
      (title === '' ? titleInput : peopleInput).focus();
      return;
    }
    update('', true);
    options.onSubmit({ title, people }).then(close, (failure: unknown) => {
      // Cancelled meanwhile: another dialog may be showing; leave it alone.
      if (closed) return;
      update(describeError(failure), false);
      peopleInput.focus();
    });
  };

  const update = (nextError: string, nextBusy: boolean) => {
    error = nextError;
    busy = nextBusy;
    render(
      html`<dialog class="conversation-dialog" aria-labelledby=${`${id}-heading`} @close=${onClose} ${ref(dialogRef)}>
        <form class="dialog-form" novalidate @submit=${onSubmit}>
          <h2 id=${`${id}-heading`}>${options.heading}</h2>
          <label for=${`${id}-title`}>Title</label>
          <input id=${`${id}-title`} name="title" type="text" required maxlength="200" autocomplete="off" value=${options.title} ${ref(titleRef)} />
          ${options.members
            ? html`<p class="dialog-members"><span class="label">Members: </span>${options.members.join(', ')}</p>`
            : nothing}
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
          <p class="hint" id=${`${id}-people-hint`}>${options.peopleHint}</p>
          <p class="form-error" role="alert" ?hidden=${error === ''}>${error}</p>
          <div class="dialog-actions">
            <button type="button" @click=${close}>Cancel</button>
            <button class="primary" type="submit" ?disabled=${busy}>${options.submitLabel}</button>
          </div>
        </form>
      </dialog>`,
      document.body,
    );
  };

  update('', false);
  dialogRef.value?.showModal();
  titleRef.value?.focus();
}
