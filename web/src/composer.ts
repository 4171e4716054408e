import { html, type TemplateResult } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';

/**
 * The message box: Enter sends, Shift+Enter is a new line, and it grows with its text up to the
 * height CSS allows. Its text lives in the DOM (the template never sets it), so re-rendering the
 * screen never touches what is being typed.
 */
export class Composer {
  private readonly textRef = createRef<HTMLTextAreaElement>();

  /**
   * `onSend` is called on Enter or the Send button; it reads the text with `take()`. `onTyping` on
   * every change of the text (the connection throttles what it sends).
   */
  constructor(
    private readonly onSend: () => void,
    private readonly onTyping: () => void = () => undefined,
  ) {}

  view(): TemplateResult {
    return html`<form class="composer" @submit=${this.onSubmit}>
      <label class="visually-hidden" for="composer-text">Message</label>
      <textarea
        id="composer-text"
        name="text"
        rows="1"
        maxlength="4000"
        placeholder="Write a message"
        aria-describedby="composer-hint"
        @keydown=${this.onKeyDown}
        @input=${this.onInput}
        ${ref(this.textRef)}
      ></textarea>
      <button class="primary send-button" type="submit">Send</button>
    </form>`;
  }

  focus(): void {
    this.textRef.value?.focus();
  }

  /** The text typed, emptying the box; '' when there is nothing but whitespace (then the box is left as it is). */
  take(): string {
    const box = this.textRef.value;
    if (!box || box.value.trim() === '') return '';
    const text = box.value;
    box.value = '';
    this.fit();
    return text;
  }

  /** Gives a text back to edit and resend, unless something new was typed meanwhile. */
  giveBack(text: string): void {
    const box = this.textRef.value;
    if (!box || box.value !== '') return;
    box.value = text;
    this.fit();
  }

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    this.onSend();
  };

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    // isComposing: Enter that confirms an input-method composition is not a send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.onSend();
    }
  };

  private readonly onInput = (): void => {
    this.fit();
    if (this.textRef.value?.value.trim()) this.onTyping();
  };

  /** The text area grows with its text, up to the height CSS allows. */
  private readonly fit = (): void => {
    const box = this.textRef.value;
    if (!box) return;
    box.style.height = 'auto';
    box.style.height = `${box.scrollHeight}px`;
  };
}
