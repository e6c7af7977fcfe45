// The program as OBS shows it (the latest screenshot), greyed with a banner while OBS is unreachable.
import type { ObsScreenshot, ObsState } from '@irlkit/shared';

export function Preview({ obs, screenshot }: { obs: ObsState | null; screenshot: ObsScreenshot | null }) {
  const obsDown = !obs?.reachable;
  return (
    <section className="card preview">
      <div className={`frame ${obsDown ? 'stale' : ''}`}>
        {screenshot ? (
          // biome-ignore lint/performance/noImgElement: a base64 frame replaced every second; next/image would only add a wrapper
          <img src={`data:image/${screenshot.format};base64,${screenshot.data}`} alt="program preview" data-testid="preview" data-ts={screenshot.ts} />
        ) : (
          <div className="placeholder">no preview yet</div>
        )}
        {obsDown && (
          <div className="banner" data-testid="obs-stale">
            OBS unreachable{obs?.error ? `: ${obs.error}` : ''}
          </div>
        )}
      </div>
      <div className="row">
        <span>
          Scene: <strong data-testid="program-scene">{obs?.programScene ?? '—'}</strong>
        </span>
        <span>{obs?.outputKbps != null ? `${obs.outputKbps} kbit/s out` : ''}</span>
      </div>
    </section>
  );
}
