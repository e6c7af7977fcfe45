// What the streamer does: start/stop the stream, mute, pick a scene; the last command's reply below.
import type { ObsState } from '@irlkit/shared';
import type { Command, CommandReply } from '../commands';

export function Controls({ obs, command, reply }: { obs: ObsState | null; command: Command; reply: CommandReply | null }) {
  return (
    <section className="card controls">
      <div className="buttons">
        {obs?.streaming ? (
          <button
            type="button"
            className="danger"
            data-testid="stop"
            onClick={() => window.confirm('Stop the stream?') && command('stream.stop', {}, 'stop stream')}
          >
            Stop stream
          </button>
        ) : (
          <button type="button" className="go" data-testid="start" onClick={() => command('stream.start', {}, 'start stream')}>
            Start stream
          </button>
        )}
        <button
          type="button"
          data-testid="mute"
          className={obs?.micMuted ? 'danger' : ''}
          onClick={() => command('audio.mute', { muted: !obs?.micMuted }, obs?.micMuted ? 'unmute' : 'mute')}
        >
          {obs?.micMuted ? 'Mic muted' : 'Mic on'}
        </button>
      </div>
      <div className="scenes" data-testid="scenes">
        {(obs?.scenes ?? []).map((scene) => (
          <button
            type="button"
            key={scene}
            data-testid={`scene-${scene}`}
            className={scene === obs?.programScene ? 'current' : ''}
            onClick={() => command('scene.set', { scene }, `scene ${scene}`)}
          >
            {scene}
          </button>
        ))}
      </div>
      <p className={reply?.ok === false ? 'error' : 'note'} role="status" data-testid="reply">
        {reply?.text ?? ' '}
      </p>
    </section>
  );
}
