/**
 * The signed-in session, kept in sessionStorage: it survives a reload of this tab and is gone when
 * the tab closes, and other tabs each sign in on their own.
 */
export interface SavedSession {
  username: string;
  token: string;
  /** ISO time after which the api refuses the token. */
  expiresAt: string;
  /** The conversation that was open, reopened after a reload. */
  openConversationId?: string;
}

const KEY = 'chat.session';

function isSavedSession(value: unknown): value is SavedSession {
  if (typeof value !== 'object' || value === null) return false;
  const session = value as Record<string, unknown>;
  return (
    typeof session.username === 'string' &&
    typeof session.token === 'string' &&
    typeof session.expiresAt === 'string' &&
    (session.openConversationId === undefined || typeof session.openConversationId === 'string')
  );
}

/** The saved session, unless there is none, it is unreadable, or its token has expired. */
export function loadSavedSession(now: number = Date.now()): SavedSession | undefined {
  let raw: string | null;
  try {
    raw = sessionStorage.getItem(KEY);
  } catch (error) {
    // Storage can be disabled (privacy settings): the person simply signs in again.
    console.warn('sessionStorage is not available', error);
    return undefined;
  }
  if (raw === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Written by something else or truncated: treat it as signed out.
    clearSavedSession();
    return undefined;
  }
  if (!isSavedSession(parsed) || !(Date.parse(parsed.expiresAt) > now)) {
    clearSavedSession();
    return undefined;
  }
  return parsed;
}

export function saveSession(session: SavedSession): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch (error) {
    console.warn('could not save the session; a reload will ask to sign in again', error);
  }
}

export function clearSavedSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch (error) {
    console.warn('could not clear the saved session', error);
  }
}
