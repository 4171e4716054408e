import { ChatApi } from '@chat/client';
import { createAuthScreen } from './auth-screen.js';
import { ChatScreen } from './chat-screen.js';
import { clearSavedSession, loadSavedSession, saveSession, type SavedSession } from './saved-session.js';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const app: HTMLElement = root;

let current: ChatScreen | undefined;

function showSignIn(notice?: string): void {
  current = undefined;
  clearSavedSession();
  const api = new ChatApi({ baseUrl: location.origin });
  app.replaceChildren(
    createAuthScreen({
      api,
      ...(notice !== undefined ? { notice } : {}),
      onAuthenticated: (result) => {
        const session: SavedSession = { username: result.user.username, token: result.token, expiresAt: result.expiresAt };
        saveSession(session);
        showChat(session);
      },
    }),
  );
}

function showChat(session: SavedSession): void {
  const screen = new ChatScreen({ session, onSignOut: (notice) => showSignIn(notice) });
  current = screen;
  app.replaceChildren(screen.element);
  screen.start().catch((error: unknown) => {
    console.error('the chat screen failed to start', error);
    if (current === screen) {
      screen.dispose();
      showSignIn('Something went wrong. Log in again.');
    }
  });
}

const saved = loadSavedSession();
if (saved) showChat(saved);
else showSignIn();
