'use client';
// The page's one connection to the stream (GET /api/events, Server-Sent Events): the snapshot first,
// then live events, both through the reducer in state.ts; reconnects on its own, and sends an ended
// session to the login page once the server answers for it.
import { EVENT_NAMES } from '@irlkit/shared/subjects';
import { useEffect, useReducer, useState } from 'react';
import { initialLiveState, type LiveState, liveReducer } from './state';

interface Snapshot {
  serverNow: number;
  events: Array<{ name: string; payload: unknown }>;
}

export function useLiveEvents(): { live: LiveState; connected: boolean } {
  const [live, dispatch] = useReducer(liveReducer, initialLiveState);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    let source: EventSource | undefined;
    let checkTimer: ReturnType<typeof setTimeout> | undefined;
    let disposed = false;
    let serverClockOffsetMs = 0;

    // After an error: an ended session goes to the login page; while the server is unreachable (a
    // restart, a network hiccup) keep asking, once a second; once it answers, reconnect if the browser
    // gave up (it stops retrying for good after any non-200 answer, such as a 502 from a proxy). One
    // chain of questions at a time: `checking` covers the request and the wait after it.
    let checking = false;
    const later = (next: () => void) => {
      checkTimer = setTimeout(() => {
        checkTimer = undefined;
        next();
      }, 1000);
    };
    // An ended session goes to the login page, once the server answers for it: a redeploy's old server may
    // say 401 a moment before it stops, and a navigation to a server that is gone ends on the browser's own
    // error page, where this page's code no longer runs to try again.
    const goToLogin = () => {
      fetch('/login', { method: 'HEAD', cache: 'no-store' }).then(
        (r) => {
          if (disposed) return;
          if (r.ok) window.location.assign('/login');
          else later(check);
        },
        () => {
          if (!disposed) later(check);
        },
      );
    };
    const check = () => {
      if (disposed || source?.readyState === EventSource.OPEN) {
        checking = false;
        return;
      }
      checking = true;
      fetch('/api/events', { method: 'HEAD', cache: 'no-store' }).then(
        (r) => {
          if (disposed) return;
          if (r.status === 401) goToLogin();
          else if (r.ok && source?.readyState === EventSource.CLOSED) {
            checking = false;
            later(connect);
          } else later(check);
        },
        () => {
          if (!disposed) later(check);
        },
      );
    };

    const deliver = (name: string, payload: unknown) => {
      if ((EVENT_NAMES as readonly string[]).includes(name)) {
        dispatch({ type: 'event', name: name as (typeof EVENT_NAMES)[number], payload, receivedAt: Date.now(), serverClockOffsetMs });
      }
    };

    const connect = () => {
      source?.close();
      const current = new EventSource('/api/events');
      source = current;
      // First on every connection: what the server remembers (latest state, timeline, the chart's last
      // minutes), replayed through the same reducer as live events.
      current.addEventListener('snapshot', (event) => {
        const snapshot = JSON.parse((event as MessageEvent).data) as Snapshot;
        serverClockOffsetMs = Date.now() - snapshot.serverNow;
        dispatch({ type: 'replay' });
        for (const { name, payload } of snapshot.events) deliver(name, payload);
      });
      for (const name of EVENT_NAMES) current.addEventListener(name, (event) => deliver(name, JSON.parse((event as MessageEvent).data)));
      current.onopen = () => setConnected(true);
      current.onerror = () => {
        setConnected(false);
        if (!checking) check();
      };
    };

    connect();
    return () => {
      disposed = true;
      source?.close();
      if (checkTimer) clearTimeout(checkTimer);
    };
  }, []);

  return { live, connected };
}

/** The time now, updated twice a second, for what ages (stale statistics). */
export function useNow(intervalMs = 500): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const clock = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(clock);
  }, [intervalMs]);
  return now;
}
