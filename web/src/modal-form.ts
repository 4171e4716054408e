import { html, nothing, render, type TemplateResult } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';

export interface ModalForm {
  /** Shows `error` under the fields ('' for none); `busy` disables the submit button meanwhile. */
  show(error: string, busy: boolean): void;
  close(): void;
  /** Closed (submitted or cancelled): an answer arriving now must leave the page alone. */
  readonly closed: boolean;
}

export interface ModalFormOptions {
  className: string;
  heading: string;
  submitLabel: string;
  /** The fields; `id` is unique to this dialog, for labels. */
  fields: (id: string) => TemplateResult;
  onSubmit: (form: ModalForm) => void;
}

let ids = 0;

/**
 * A form in a modal <dialog> at the end of the body: focus stays inside it, Escape cancels, an
 * error line shows what the request said when it failed, and closing it removes it. One is open
 * at a time (it is modal).
 */
export function openModalForm(options: ModalFormOptions): void {
  const id = `${options.className}-${(ids += 1)}`;
  const dialogRef = createRef<HTMLDialogElement>();
  let closed = false;
  const form: ModalForm = {
    show: (error, busy) => draw(error, busy),
    close: () => dialogRef.value?.close(),
    get closed() {
      return closed;
    },
  };
  const onClose = () => {
    closed = true;
    render(nothing, document.body);
  };
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    options.onSubmit(form);
  };
  const draw = (error: string, busy: boolean) =>
    render(
      html`<dialog class=${options.className} aria-labelledby=${`${id}-heading`} @close=${onClose} ${ref(dialogRef)}>
        <form class="dialog-form" novalidate @submit=${onSubmit}>
          <h2 id=${`${id}-heading`}>${options.heading}</h2>
          ${options.fields(id)}
          <p class="form-error" role="alert" ?hidden=${error === ''}>${error}</p>
          <div class="dialog-actions">
            <button type="button" @click=${form.close}>Cancel</button>
            <button class="primary" type="submit" ?disabled=${busy}>${options.submitLabel}</button>
          </div>
        </form>
      </dialog>`,
      document.body,
    );
  draw('', false);
  dialogRef.value?.showModal();
}
