import { useState, type ReactNode } from 'react';

/** Asks the browser for permission to show desktop notifications of new approvals. */
export function NotificationToggle(): ReactNode {
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');
  if (!supported || permission === 'granted') return null;
  if (permission === 'denied')
    return <span>Desktop notifications are blocked by the browser.</span>;
  return (
    <button
      type="button"
      className="link-button"
      onClick={() => {
        void Notification.requestPermission().then(setPermission);
      }}
    >
      Turn on desktop notifications
    </button>
  );
}
