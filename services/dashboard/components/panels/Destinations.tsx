// Where the program goes: every destination with its health (connected, retrying and why, kbit/s out,
// dropped frames, uptime), switched on and off alone, added, edited and removed. Keys are write-only:
// the page only ever sees their last characters, and an edit that leaves the key empty keeps it.
import type { DestinationHealth, RestreamState } from '@irlkit/shared';
import { useState } from 'react';
import type { Command } from '../commands';
import { checked } from '../form-check';
import { duration } from '../report/format';

const STATUS_TEXT: Record<DestinationHealth['status'], string> = {
  connected: 'live',
  connecting: 'connecting',
  reconnecting: 'reconnecting',
  failed: 'failing',
  idle: 'waiting for the stream',
  disabled: 'off',
};

interface Draft {
  id?: string;
  name: string;
  url: string;
  key: string;
  keyHint?: string;
}
const EMPTY: Draft = { name: '', url: '', key: '' };

export function Destinations({ restream, command }: { restream: RestreamState | null; command: Command }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const destinations = restream?.destinations ?? [];
  return (
    <section className="card destinations" data-testid="destinations">
      <h2>Destinations</h2>
      {!restream && <p className="note">Restream service not heard from yet.</p>}
      <ul className="dest-list">
        {destinations.map((d) => (
          <li key={d.id} data-testid={`dest-${d.id}`} data-status={d.status}>
            <div className="dest-head">
              <span className={`badge ${d.status}`} data-testid={`dest-${d.id}-status`}>
                {STATUS_TEXT[d.status]}
              </span>
              <strong>{d.name}</strong>
              <span className="muted">
                {d.url} {d.keyHint && <code>key {d.keyHint}</code>}
              </span>
            </div>
            {d.status === 'connected' && (
              <div className="dest-stats muted">
                {d.bitrateKbps} kbit/s · {d.droppedFrames} dropped · up {duration(d.uptimeMs)}
              </div>
            )}
            {d.error && d.status !== 'connected' && (
              <div className="error" data-testid={`dest-${d.id}-error`}>
                {d.error}
                {d.retryInMs !== null && ` — retry in ${Math.ceil(d.retryInMs / 1000)} s`}
              </div>
            )}
            <div className="buttons">
              <button
                type="button"
                data-testid={`dest-${d.id}-toggle`}
                className={d.enabled ? '' : 'go'}
                onClick={() => command('destination.enable', { id: d.id, enabled: !d.enabled }, `${d.name} ${d.enabled ? 'off' : 'on'}`)}
              >
                {d.enabled ? 'Turn off' : 'Turn on'}
              </button>
              <button type="button" onClick={() => setDraft({ id: d.id, name: d.name, url: d.url, key: '', keyHint: d.keyHint })}>
                Edit
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => window.confirm(`Remove ${d.name}?`) && command('destination.remove', { id: d.id }, `remove ${d.name}`)}
              >
                Remove
              </button>
            </div>
          </li>
        ))}
      </ul>
      {draft ? (
        <form
          className="settings"
          data-testid="destination-form"
          onSubmit={async (e) => {
            e.preventDefault();
            const request = { ...(draft.id ? { id: draft.id } : {}), name: draft.name, url: draft.url.trim(), ...(draft.key ? { key: draft.key.trim() } : {}) };
            const data = await checked((s) => s.restreamCommandSchemas['destination.save'].request.safeParse(request), setProblem, 'destination');
            if (!data) return;
            setDraft(null);
            await command('destination.save', data, `save ${draft.name}`);
          }}
        >
          <label>
            Name
            <input value={draft.name} data-testid="destination-name" onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          </label>
          <label>
            Server URL (rtmp://, rtmps:// or srt://)
            <input value={draft.url} data-testid="destination-url" placeholder="rtmps://…" onChange={(e) => setDraft({ ...draft, url: e.target.value })} />
          </label>
          <label>
            Stream key
            <input
              type="password"
              autoComplete="off"
              value={draft.key}
              data-testid="destination-key"
              placeholder={draft.id ? `unchanged (${draft.keyHint || 'none'})` : ''}
              onChange={(e) => setDraft({ ...draft, key: e.target.value })}
            />
          </label>
          <div className="buttons">
            <button type="submit" className="go" data-testid="destination-save">
              Save
            </button>
            <button type="button" onClick={() => setDraft(null)}>
              Cancel
            </button>
          </div>
          {problem && (
            <p className="error" role="alert" data-testid="destination-problem">
              {problem}
            </p>
          )}
        </form>
      ) : (
        <button type="button" data-testid="destination-add" onClick={() => setDraft(EMPTY)}>
          Add destination
        </button>
      )}
    </section>
  );
}
