import { createContext, useContext, useEffect, useState } from 'react';
import type { UiSessionInfo } from '../../../contracts/ui.ts';
import type { UiApiClient } from './api-client.ts';
import type { LiveEvents, LiveStatus } from './live-events.ts';

/** What every page reaches: the typed client, the live stream and the session. */
export type AppServices = {
  client: UiApiClient;
  live: LiveEvents;
  session: UiSessionInfo;
};

export const AppContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (services === null) throw new Error('useServices outside <AppContext>');
  return services;
}

/** The live stream's state, for the connection indicator. */
export function useLiveStatus(): LiveStatus {
  const { live } = useServices();
  const [status, setStatus] = useState(live.status);
  useEffect(() => {
    const unsubscribe = live.onStatus(setStatus);
    // The stream may have changed state between the first render and this subscription.
    setStatus(live.status);
    return unsubscribe;
  }, [live]);
  return status;
}
