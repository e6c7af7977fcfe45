// The destinations list in the JetStream key-value bucket, keys included: edits from commands are
// validated, stream keys are kept when an edit leaves them out, and nothing here ever returns a key.
import { createHash, randomBytes } from 'node:crypto';
import { CommandError, type CommandRequest, type Logger, type Setting, type SettingsBucket, type StoredDestination, storedDestinations } from '@irlkit/shared';
import { z } from 'zod';

export const MAX_DESTINATIONS = 16;

const recordingSetting = z.strictObject({ enabled: z.boolean() });
/** Which configured seed (OBS_RTMP_URL/OBS_RTMP_KEY) the list last took in: a hash, never the key. */
const seedSetting = z.strictObject({ fingerprint: z.string().regex(/^[0-9a-f]{64}$/) });
/** The seeded destination's id. */
export const PRIMARY_ID = 'primary';

type Seed = { name: string; url: string; key: string };
const fingerprintOf = (seed: Seed) =>
  createHash('sha256')
    .update(JSON.stringify([seed.name, seed.url, seed.key]))
    .digest('hex');

export class DestinationStore {
  private readonly list: Setting<typeof storedDestinations>;
  private readonly recording: Setting<typeof recordingSetting>;
  private readonly seedApplied: Setting<typeof seedSetting>;
  private destinations: StoredDestination[] = [];
  private recordingEnabled: boolean;

  constructor(
    bucket: SettingsBucket,
    streamId: string,
    private readonly seed: Seed | null,
    recordingDefault: boolean,
    private readonly log: Logger,
    onStored: () => void,
  ) {
    this.list = bucket.setting(`destinations_${streamId}`, storedDestinations);
    this.recording = bucket.setting(`recording_${streamId}`, recordingSetting);
    this.seedApplied = bucket.setting(`seed_${streamId}`, seedSetting);
    this.recordingEnabled = recordingDefault;
    this.list.onStored((value) => {
      this.destinations = value;
      onStored();
    });
    this.recording.onStored((value) => {
      this.recordingEnabled = value.enabled;
      onStored();
    });
  }

  /**
   * Reads the stored list and takes in the seed (the single-platform setup's OBS_RTMP_URL and key, the
   * "primary" destination): an empty store starts with it, and a seed that changed since the list last
   * took it in updates the primary destination (or puts it back first if it was removed), so editing
   * .env and restarting still changes where the stream goes. An unchanged seed leaves the list alone:
   * the dashboard's edits stay. A list stored before seeds were tracked is kept as it is.
   */
  async load(available: boolean): Promise<void> {
    const stored = await this.list.get();
    if (stored) this.destinations = stored;
    const recording = await this.recording.get();
    if (recording) this.recordingEnabled = recording.enabled;
    if (!this.seed) return;
    const fingerprint = fingerprintOf(this.seed);
    const applied = await this.seedApplied.get();
    if (applied?.fingerprint === fingerprint) return;
    const seeded: StoredDestination = { id: PRIMARY_ID, name: this.seed.name, url: this.seed.url, key: this.seed.key, enabled: true };
    const primary = this.destinations.find((d) => d.id === PRIMARY_ID);
    let change: string | undefined;
    if (!stored) {
      this.destinations = [seeded];
      change = 'destinations seeded with the configured primary destination';
    } else if (!applied) {
      // A list from before seeds were tracked: kept as it is; later changes of the seed apply.
    } else if (primary) {
      this.destinations = this.destinations.map((d) => (d.id === PRIMARY_ID ? { ...seeded, enabled: d.enabled } : d));
      change = 'the configured primary destination changed: updated';
    } else if (this.destinations.length < MAX_DESTINATIONS) {
      this.destinations = [seeded, ...this.destinations];
      change = 'the configured primary destination changed: added again';
    } else {
      this.log.warn({ url: this.seed.url }, `the configured primary destination changed, but the list is full (${MAX_DESTINATIONS}): not added`);
    }
    if (change) this.log.info({ url: this.seed.url }, change);
    // Written only when the bucket answered: a put while it is away would later overwrite a stored list.
    if (!available) return;
    if (change) await this.list.put(this.destinations);
    await this.seedApplied.put({ fingerprint });
  }

  all(): readonly StoredDestination[] {
    return this.destinations;
  }

  get recordingOn(): boolean {
    return this.recordingEnabled;
  }

  async save(request: CommandRequest<'destination.save'>): Promise<StoredDestination> {
    const existing = request.id ? this.destinations.find((d) => d.id === request.id) : undefined;
    if (request.id && !existing) throw new CommandError(`id: no destination "${request.id}"`);
    if (!existing && this.destinations.length >= MAX_DESTINATIONS) throw new CommandError(`at most ${MAX_DESTINATIONS} destinations`);
    const saved: StoredDestination = {
      id: existing?.id ?? this.newId(request.name),
      name: request.name,
      url: request.url,
      key: request.key ?? existing?.key ?? '',
      enabled: request.enabled ?? existing?.enabled ?? true,
    };
    await this.write(existing ? this.destinations.map((d) => (d.id === saved.id ? saved : d)) : [...this.destinations, saved]);
    return saved;
  }

  async remove(id: string): Promise<void> {
    if (!this.destinations.some((d) => d.id === id)) throw new CommandError(`id: no destination "${id}"`);
    await this.write(this.destinations.filter((d) => d.id !== id));
  }

  async enable(id: string, enabled: boolean): Promise<StoredDestination> {
    const existing = this.destinations.find((d) => d.id === id);
    if (!existing) throw new CommandError(`id: no destination "${id}"`);
    const saved = { ...existing, enabled };
    await this.write(this.destinations.map((d) => (d.id === id ? saved : d)));
    return saved;
  }

  async setRecording(enabled: boolean): Promise<void> {
    this.recordingEnabled = enabled;
    await this.recording.put({ enabled });
  }

  private async write(next: StoredDestination[]): Promise<void> {
    this.destinations = next;
    await this.list.put(next);
  }

  /** A readable id from the name ("Twitch EU" → "twitch-eu"), made unique. */
  private newId(name: string): string {
    const base =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 24) || 'destination';
    if (!this.destinations.some((d) => d.id === base)) return base;
    return `${base}-${randomBytes(3).toString('hex')}`;
  }
}
