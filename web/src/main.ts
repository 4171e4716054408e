import { ChatApi } from '@chat/client';
import { showAuthScreen } from './auth-screen.js';
import { ChatScreen } from './chat-screen.js';
import { clearSavedSession, loadSavedSession, saveSession, type SavedSession } from './saved-session.js';

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
const app: HTMLElement = root;
// The screens render into #app with lit, which keeps its own markers there: start it empty.
app.replaceChildren();

let current: ChatScreen | undefined;

function showSignIn(notice?: string): void {
  current = undefined;
  clearSavedSession();
  showAuthScreen({
    host: app,
    api: new ChatApi({ baseUrl: location.origin }),
    ...(notice !== undefined ? { notice } : {}),
    onAuthenticated: (result) => {
      const session: SavedSession = { username: result.user.username, token: result.token, expiresAt: result.expiresAt };
      saveSession(session);
      showChat(session);
    },
  });
}

function showChat(session: SavedSession): void {
  const screen = new ChatScreen({ host: app, session, onSignOut: (notice) => showSignIn(notice) });
  current = screen;
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
