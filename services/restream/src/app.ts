// The restream service: OBS streams the program once to a local relay; one ffmpeg per enabled
// destination copies it to a platform (no re-encode), each supervised and reported on its own; an
// ffmpeg records it locally. Its own process: the copies outlive restarts of OBS's bridge, and only it
// holds the stream keys.
import { type Bus, type Logger, publishChildEvent, type RestreamState, SettingsBucket, startHeartbeat, timeline } from '@irlkit/shared';
import type { RestreamConfig } from './config.ts';
import { DestinationOutput } from './destinations/output.ts';
import { DestinationStore } from './destinations/store.ts';
import { Recorder } from './recording/recorder.ts';
import { Relay } from './relay/relay.ts';

const STATE_EVERY_MS = 1000;
const RECORDING_STATE_EVERY_MS = 5000;

export interface RestreamApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  state(): RestreamState;
  readonly relay: Relay;
  readonly recorder: Recorder;
}

export function buildApp({ config, bus, log }: { config: RestreamConfig; bus: Bus; log: Logger }): RestreamApp {
  const events = timeline(bus, 'restream');
  const bucket = new SettingsBucket(bus.nc, config.bucket, log.child({ part: 'destinations' }), {
    replicas: config.common.nats.jetstreamReplicas,
    onAvailability: (available, reason) =>
      available ? events.info('destinations are persisted again') : events.warn(`destinations are not persisted: ${reason}`),
  });
  const outputs = new Map<string, DestinationOutput>();
  const cleanups: Array<() => void> = [];
  let programLive = false;
  let programSince: number | null = null;
  let publishQueued = false;
  let reconciling = Promise.resolve();

  const state = (): RestreamState => ({
    ts: Date.now(),
    programLive,
    programSince,
    destinations: store.all().flatMap((d) => outputs.get(d.id)?.health() ?? []),
  });
  const publishState = () => {
    bus.publish('restream.state', state());
  };
  /** Many changes at once (a start with four destinations) make one message. */
  const stateChanged = () => {
    if (publishQueued) return;
    publishQueued = true;
    setImmediate(() => {
      publishQueued = false;
      publishState();
    });
  };
  const publishRecording = () => bus.publish('recording.state', recorder.state());

  const store = new DestinationStore(bucket, bus.streamId, config.seed, config.recording.enabled, log, () => reconcile());

  const relay = new Relay(
    config.relay,
    {
      onProgram: (live) => {
        programLive = live;
        programSince = live ? Date.now() : null;
        events.info(live ? 'program on the relay: sending to the destinations' : 'program left the relay: destinations idle');
        reconcile();
      },
      onChildEvent: (event) => publishChildEvent(bus, 'restream', event),
    },
    log.child({ part: 'relay' }),
  );

  const recorder = new Recorder(
    {
      ffmpeg: config.output.ffmpeg,
      dir: config.recording.dir,
      streamId: bus.streamId,
      relayPlayUrl: relay.playUrl,
      relayKey: config.relay.key,
      budget: { maxBytes: config.recording.maxBytes, maxAgeMs: config.recording.maxAgeMs },
      checkEveryMs: 30_000,
    },
    config.recording.enabled,
    log.child({ part: 'recorder' }),
    () => publishRecording(),
    (event) => publishChildEvent(bus, 'restream', event),
  );

  /** Brings every output and the recorder in line with the list and the program; one pass at a time. */
  const reconcile = () => {
    reconciling = reconciling.then(async () => {
      const wanted = new Map(store.all().map((d) => [d.id, d]));
      for (const [id, output] of outputs) {
        if (!wanted.has(id)) {
          outputs.delete(id);
          await output.stop('idle');
        }
      }
      for (const destination of wanted.values()) {
        let output = outputs.get(destination.id);
        if (!output) {
          output = new DestinationOutput(
            destination,
            { ...config.output, relayPlayUrl: relay.playUrl, relayKey: config.relay.key },
            log.child({ part: 'destination' }),
            stateChanged,
          );
          outputs.set(destination.id, output);
        }
        await output.update(destination, programLive);
      }
      recorder.enabled = store.recordingOn;
      await recorder.apply(programLive);
      stateChanged();
    });
    reconciling = reconciling.catch((error: unknown) => log.error({ err: error }, 'reconcile failed'));
    return reconciling;
  };

  const view = () => state().destinations;

  return {
    relay,
    recorder,
    state,
    async start() {
      const available = await bucket.open();
      await store.load(available);
      cleanups.push(
        bus.serve('destination.save', async (request) => {
          const saved = await store.save(request);
          events.info(`destination ${saved.name} saved (${saved.enabled ? 'on' : 'off'})`);
          await reconcile();
          return view();
        }),
        bus.serve('destination.remove', async ({ id }) => {
          await store.remove(id);
          events.info(`destination ${id} removed`);
          await reconcile();
          return view();
        }),
        bus.serve('destination.enable', async ({ id, enabled }) => {
          const saved = await store.enable(id, enabled);
          events.info(`destination ${saved.name} turned ${enabled ? 'on' : 'off'}`);
          await reconcile();
          return view();
        }),
        bus.serve('recording.enable', async ({ enabled }) => {
          await store.setRecording(enabled);
          events.info(`recording turned ${enabled ? 'on' : 'off'}`);
          await reconcile();
          return { enabled };
        }),
      );
      await relay.start();
      await reconcile();
      const stateTimer = setInterval(publishState, STATE_EVERY_MS);
      const recordingTimer = setInterval(publishRecording, RECORDING_STATE_EVERY_MS);
      cleanups.push(() => clearInterval(stateTimer));
      cleanups.push(() => clearInterval(recordingTimer));
      publishRecording();
      cleanups.push(
        startHeartbeat(bus, 'restream', () => {
          const destinations = state().destinations;
          return {
            ok: relay.running,
            detail: {
              relay: relay.running,
              programLive,
              destinations: destinations.length,
              connected: destinations.filter((d) => d.status === 'connected').length,
              failing: destinations.filter((d) => d.status === 'failed' || d.status === 'reconnecting').length,
              recording: recorder.recording,
            },
          };
        }),
      );
    },
    async stop() {
      for (const cleanup of cleanups.splice(0)) cleanup();
      await reconciling;
      await Promise.all([...outputs.values()].map((o) => o.stop('idle')));
      outputs.clear();
      await recorder.close();
      await relay.stop();
      bucket.close();
    },
  };
}
