import type { AuthResult, ChatApi } from '@chat/client';
import { el } from './dom.js';
import { describeError } from './describe-error.js';

export interface AuthScreenOptions {
  api: ChatApi;
  /** Shown above the form, e.g. why the person was signed out. */
  notice?: string;
  onAuthenticated: (result: AuthResult) => void;
}

/**
 * Sign in or create an account: one form, two submit buttons (Enter signs in). The api's error
 * message is shown as it is, so its rules (username pattern, password length) need no copy here.
 */
export function createAuthScreen(options: AuthScreenOptions): HTMLElement {
  const username = el('input', {
    attrs: {
      id: 'auth-username',
      name: 'username',
      type: 'text',
      required: true,
      autocomplete: 'username',
      autocapitalize: 'none',
      spellcheck: 'false',
      maxlength: 32,
    },
  });
  const password = el('input', {
    attrs: { id: 'auth-password', name: 'password', type: 'password', required: true, autocomplete: 'current-password', maxlength: 256 },
  });
  const login = el('button', { class: 'primary', attrs: { type: 'submit', name: 'action', value: 'login' } }, 'Log in');
  const register = el('button', { attrs: { type: 'submit', name: 'action', value: 'register' } }, 'Create account');
  const error = el('p', { class: 'form-error', attrs: { role: 'alert', hidden: true } });
  const notice = el('p', { class: 'notice', attrs: { role: 'status', hidden: options.notice === undefined } }, options.notice ?? '');

  const form = el(
    'form',
    { class: 'auth-form', attrs: { novalidate: true, 'aria-labelledby': 'auth-heading' } },
    el('h1', { attrs: { id: 'auth-heading' } }, 'Chat'),
    el('p', { class: 'hint' }, 'Log in, or create an account with a new username.'),
    notice,
    el('label', { attrs: { for: username.id } }, 'Username'),
    username,
    el('label', { attrs: { for: password.id } }, 'Password'),
    password,
    error,
    el('div', { class: 'auth-actions' }, login, register),
  );

  const setBusy = (busy: boolean) => {
    login.disabled = busy;
    register.disabled = busy;
    form.setAttribute('aria-busy', String(busy));
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const action = event.submitter instanceof HTMLButtonElement && event.submitter.value === 'register' ? 'register' : 'login';
    const name = username.value.trim().toLowerCase();
    if (name === '' || password.value === '') {
      error.textContent = 'Enter a username and a password.';
      error.hidden = false;
      (name === '' ? username : password).focus();
      return;
    }
    error.hidden = true;
    notice.hidden = true;
    setBusy(true);
    const request = action === 'register' ? options.api.register(name, password.value) : options.api.login(name, password.value);
    request.then(
      (result) => options.onAuthenticated(result),
      (failure: unknown) => {
        setBusy(false);
        error.textContent = describeError(failure);
        error.hidden = false;
        password.select();
        password.focus();
      },
    );
  });

  const screen = el('section', { class: 'auth-screen' }, form);
  queueMicrotask(() => username.focus());
  return screen;
}
