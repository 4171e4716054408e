import type { ConnectionState } from '@chat/client';
import { el } from './dom.js';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  disconnected: 'disconnected',
};

const DESCRIPTIONS: Record<ConnectionState, string> = {
  connecting: 'Connecting to live updates…',
  connected: 'Live: new messages appear as they are sent.',
  reconnecting: 'Connection lost; reconnecting. Messages sent meanwhile will appear once it is back.',
  disconnected: 'Not connected to live updates.',
};

/** The live connection's state, from the SDK's `state` event; styled by `data-state`. */
export class ConnectionBadge {
  readonly element: HTMLElement;

  constructor() {
    this.element = el('span', { class: 'connection-badge', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.show('disconnected');
  }

  show(state: ConnectionState): void {
    this.element.dataset.state = state;
    this.element.title = DESCRIPTIONS[state];
    this.element.replaceChildren(el('span', { class: 'connection-dot', attrs: { 'aria-hidden': 'true' } }), LABELS[state]);
  }
}
