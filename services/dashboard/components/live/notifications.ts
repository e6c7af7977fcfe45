// Which changes of the live state are worth a browser notification while the page is open: the feed lost
// and back, the stream stopped. Pure: the previous and the new state in, the notices out.
import type { LiveState } from './state';

export interface Notice {
  title: string;
  body: string;
  /** Notifications with the same tag replace each other. */
  tag: string;
}

/** Older events (a snapshot replayed on connect) are history, not news. */
export const NOTICE_FRESH_MS = 15_000;

export function notices(before: LiveState, after: LiveState, now: number): Notice[] {
  const out: Notice[] = [];
  const was = before.switcher;
  const is = after.switcher;
  if (was && is && was.state !== is.state && now - is.ts < NOTICE_FRESH_MS) {
    if (is.state === 'offline') out.push({ title: 'Feed lost', body: `Offline scene on air: ${is.reason}`, tag: 'feed' });
    else if (was.state === 'offline') out.push({ title: 'Feed back', body: `${is.state.toUpperCase()}: ${is.reason}`, tag: 'feed' });
  }
  if (before.obs?.streaming && after.obs && !after.obs.streaming && now - after.obs.ts < NOTICE_FRESH_MS) {
    out.push({ title: 'Stream stopped', body: after.obs.reachable ? 'OBS is no longer streaming.' : 'OBS is unreachable.', tag: 'stream' });
  }
  return out;
}
