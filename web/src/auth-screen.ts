import type { AuthResult, ChatApi } from '@chat/client';
import { html, nothing, render } from 'lit-html';
import { createRef, ref } from 'lit-html/directives/ref.js';
import { describeError } from './describe-error.js';

export interface AuthScreenOptions {
  /** Where the screen renders (it replaces what is there). */
  host: HTMLElement;
  api: ChatApi;
  /** Shown above the form, e.g. why the person was signed out. */
  notice?: string;
  onAuthenticated: (result: AuthResult) => void;
}

/**
 * Sign in or create an account: one form, two submit buttons (Enter signs in). The api's error
 * message is shown as it is, so its rules (username pattern, password length) need no copy here.
 */
export function showAuthScreen(options: AuthScreenOptions): void {
  const usernameRef = createRef<HTMLInputElement>();
  const passwordRef = createRef<HTMLInputElement>();
  let notice = options.notice;
  let error = '';
  /** Undefined until the first request: the form has no aria-busy before it. */
  let busy: boolean | undefined;

  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const username = usernameRef.value as HTMLInputElement;
    const password = passwordRef.value as HTMLInputElement;
    const action = event.submitter instanceof HTMLButtonElement && event.submitter.value === 'register' ? 'register' : 'login';
    const name = username.value.trim().toLowerCase();
    if (name === '' || password.value === '') {
      error = 'Enter a username and a password.';
      update();
      (name === '' ? username : password).focus();
      return;
    }
    error = '';
    notice = undefined;
    busy = true;
    update();
    const request = action === 'register' ? options.api.register(name, password.value) : options.api.login(name, password.value);
    request.then(
      (result) => options.onAuthenticated(result),
      (failure: unknown) => {
        busy = false;
        error = describeError(failure);
        update();
        password.select();
        password.focus();
      },
    );
  };

  const update = () =>
    render(
      html`<section class="auth-screen">
        <form class="auth-form" novalidate aria-labelledby="auth-heading" aria-busy=${busy === undefined ? nothing : String(busy)} @submit=${onSubmit}>
          <h1 id="auth-heading">Chat</h1>
          <p class="hint">Log in, or create an account with a new username.</p>
          <p class="notice" role="status" ?hidden=${notice === undefined}>${notice ?? ''}</p>
          <label for="auth-username">Username</label>
          <input
            id="auth-username"
            name="username"
            type="text"
            required
            autocomplete="username"
            autocapitalize="none"
            spellcheck="false"
            maxlength="32"
            ${ref(usernameRef)}
          />
          <label for="auth-password">Password</label>
          <input id="auth-password" name="password" type="password" required autocomplete="current-password" maxlength="256" ${ref(passwordRef)} />
          <p class="form-error" role="alert" ?hidden=${error === ''}>${error}</p>
          <div class="auth-actions">
            <button class="primary" type="submit" name="action" value="login" ?disabled=${busy === true}>Log in</button>
            <button type="submit" name="action" value="register" ?disabled=${busy === true}>Create account</button>
          </div>
        </form>
      </section>`,
      options.host,
    );

  update();
  usernameRef.value?.focus();
}
