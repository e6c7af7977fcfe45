'use client';
// "Notify me": browser notifications for a lost feed and a stopped stream while this page is open.
import { useEffect, useRef, useState } from 'react';
import { notices } from '../live/notifications';
import type { LiveState } from '../live/state';

export function NotifyButton({ live }: { live: LiveState }) {
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>('default');
  const previous = useRef(live);
  useEffect(() => setPermission(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission), []);
  useEffect(() => {
    const before = previous.current;
    previous.current = live;
    if (permission !== 'granted') return;
    for (const notice of notices(before, live, Date.now())) new Notification(notice.title, { body: notice.body, tag: notice.tag });
  }, [live, permission]);
  if (permission === 'unsupported') return null;
  return (
    <button
      type="button"
      className="ghost"
      data-testid="notify"
      disabled={permission !== 'default'}
      title={permission === 'denied' ? 'Notifications are blocked in this browser' : undefined}
      onClick={() => void Notification.requestPermission().then(setPermission)}
    >
      {permission === 'granted' ? 'Notifying' : permission === 'denied' ? 'Notifications blocked' : 'Notify me'}
    </button>
  );
}
