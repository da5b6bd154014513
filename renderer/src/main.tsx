import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { UiApiClient } from './api/api-client.ts';
import { AppContext } from './api/app-context.tsx';
import { LiveEvents } from './api/live-events.ts';
import { followLiveEvents } from './api/live-invalidation.ts';
import { App } from './app.tsx';
import './styles.css';

/**
 * Start-up: read the session's CSRF token (the cookie itself is HttpOnly), open the live
 * stream from the chain's current head, and render. Everything is built here and handed
 * down; nothing is a module-level singleton.
 */
async function start(root: HTMLElement): Promise<void> {
  const client = new UiApiClient();
  const session = await client.call('getUiSession');
  client.csrfToken = session.csrf_token;
  const queries = new QueryClient({
    defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 5_000 } },
  });
  const live = new LiveEvents(client, session.head_seq);
  followLiveEvents(live, queries, client);
  live.start();
  createRoot(root).render(
    <StrictMode>
      <AppContext value={{ client, live, session }}>
        <QueryClientProvider client={queries}>
          <App />
        </QueryClientProvider>
      </AppContext>
    </StrictMode>,
  );
}

const root = document.getElementById('root');
if (root !== null) {
  start(root).catch((e: unknown) => {
    // No React yet: plain DOM, text only (never HTML from the error).
    const p = document.createElement('p');
    p.className = 'state state-error';
    p.textContent = `The UI could not start: ${e instanceof Error ? e.message : typeof e === 'string' ? e : 'unexpected error'}. Run \`ccos open\` for a new login link.`;
    root.replaceChildren(p);
  });
}
