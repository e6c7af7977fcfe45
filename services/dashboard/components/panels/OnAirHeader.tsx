// The top bar: on air or not with the stream's timecode, the live-updates dot, the stream id, the
// desktop link, log out and log out everywhere.
import type { ObsState } from '@irlkit/shared';
import type { ReactNode } from 'react';

export function OnAirHeader({
  obs,
  connected,
  streamId,
  desktopUrl,
  children,
}: {
  obs: ObsState | null;
  connected: boolean;
  streamId: string;
  desktopUrl: string;
  /** More links and buttons for the bar. */
  children?: ReactNode;
}) {
  return (
    <header className="top">
      <div className={`onair ${obs?.streaming ? 'live' : ''}`} data-testid="onair">
        {obs?.streaming ? 'ON AIR' : 'OFF AIR'}
        <span className="timecode" data-testid="timecode">
          {obs?.streamTimecode?.slice(0, 8) ?? '--:--:--'}
        </span>
      </div>
      <div className="meta">
        <span className={`dot ${connected ? 'ok' : 'bad'}`} title={connected ? 'live updates' : 'reconnecting'} />
        <span>{streamId}</span>
        <a href={desktopUrl} target="_blank" rel="noreferrer" data-testid="desktop-link">
          OBS desktop ↗
        </a>
        {children}
        <button type="button" className="ghost" data-testid="logout" onClick={() => logOut(false)}>
          Log out
        </button>
        <button
          type="button"
          className="ghost"
          data-testid="logout-everywhere"
          onClick={() => window.confirm('Log out every browser and device, this one included?') && logOut(true)}
        >
          Log out everywhere
        </button>
      </div>
    </header>
  );
}

/** Ends this browser's session (or every session, everywhere) and goes to the login. */
function logOut(everywhere: boolean): void {
  void fetch('/api/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ everywhere }) }).finally(() => {
    window.location.href = '/login';
  });
}
