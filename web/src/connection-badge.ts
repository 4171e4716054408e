import type { ConnectionState } from '@chat/client';
import { html, type TemplateResult } from 'lit-html';

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
export function connectionBadge(state: ConnectionState): TemplateResult {
  return html`<span class="connection-badge" role="status" aria-live="polite" data-state=${state} title=${DESCRIPTIONS[state]}
    ><span class="connection-dot" aria-hidden="true"></span>${LABELS[state]}</span
  >`;
}
