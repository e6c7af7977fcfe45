// The local recording: on/off, what is being written, the folder against its budget, and every file
// to download (the download route checks the login and answers range requests).
import type { RecordingState } from '@irlkit/shared';
import type { Command } from '../commands';

function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function Recordings({ recording, command }: { recording: RecordingState | null; command: Command }) {
  if (!recording) return null;
  return (
    <section className="card recordings" data-testid="recordings">
      <h2>Recording</h2>
      <div className="buttons">
        <span
          className={`badge ${recording.status === 'recording' ? 'connected' : recording.status === 'failed' ? 'failed' : 'idle'}`}
          data-testid="recording-status"
        >
          {recording.status === 'recording'
            ? 'recording'
            : recording.status === 'off'
              ? 'off'
              : recording.status === 'failed'
                ? 'failing'
                : 'on, waiting for the stream'}
        </span>
        <button
          type="button"
          data-testid="recording-toggle"
          onClick={() => command('recording.enable', { enabled: !recording.enabled }, `recording ${recording.enabled ? 'off' : 'on'}`)}
        >
          {recording.enabled ? 'Turn recording off' : 'Turn recording on'}
        </button>
      </div>
      {recording.error && <p className="error">{recording.error}</p>}
      <p className="muted">
        {size(recording.usedBytes)} of {size(recording.budget.maxBytes)}, kept {Math.round(recording.budget.maxAgeHours)} h; the oldest go first.
      </p>
      <table data-testid="recordings-table">
        <tbody>
          {recording.files.map((f) => (
            <tr key={f.name}>
              <td>
                <a href={`/api/recordings/${encodeURIComponent(f.name)}`} download={f.name} data-testid={`recording-${f.name}`}>
                  {f.name}
                </a>
                {f.name === recording.current && ' (recording)'}
              </td>
              <td>{size(f.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
