import { html, type TemplateResult } from 'lit-html';

/**
 * The members line of the open conversation, each name with its online dot: green when online,
 * hollow when offline, none while unknown. The line's text stays "N members: a, b, c".
 */
export function membersView(users: readonly string[], me: string, isOnline: (user: string) => boolean | undefined): TemplateResult {
  if (users.length === 0) return html``;
  const label = `${users.length} ${users.length === 1 ? 'member' : 'members'}: `;
  return html`${label}${users.map((user, index) => {
    const online = user === me ? true : isOnline(user);
    const state = online === undefined ? 'unknown' : online ? 'online' : 'offline';
    return html`${index > 0 ? ', ' : ''}<span class="member" data-user=${user} data-presence=${state}
      ><span class="presence-dot" aria-hidden="true"></span>${user}<span class="visually-hidden">${state === 'unknown' ? '' : ` (${state})`}</span></span
    >`;
  })}`;
}
