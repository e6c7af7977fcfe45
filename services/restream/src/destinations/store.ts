// The destinations list in the JetStream key-value bucket, keys included: edits from commands are
// validated, stream keys are kept when an edit leaves them out, and nothing here ever returns a key.
import { randomBytes } from 'node:crypto';
import { CommandError, type CommandRequest, type Logger, type Setting, type SettingsBucket, type StoredDestination, storedDestinations } from '@irlkit/shared';
import { z } from 'zod';

export const MAX_DESTINATIONS = 16;

const recordingSetting = z.strictObject({ enabled: z.boolean() });

export class DestinationStore {
  private readonly list: Setting<typeof storedDestinations>;
  private readonly recording: Setting<typeof recordingSetting>;
  private destinations: StoredDestination[] = [];
  private recordingEnabled: boolean;

  constructor(
    bucket: SettingsBucket,
    streamId: string,
    private readonly seed: { name: string; url: string; key: string } | null,
    recordingDefault: boolean,
    private readonly log: Logger,
    onStored: () => void,
  ) {
    this.list = bucket.setting(`destinations_${streamId}`, storedDestinations);
    this.recording = bucket.setting(`recording_${streamId}`, recordingSetting);
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

  /** Reads the stored list; an empty store gets the seed destination (the single-platform setup's URL and key). */
  async load(available: boolean): Promise<void> {
    const stored = await this.list.get();
    if (stored) this.destinations = stored;
    else if (this.seed) {
      this.destinations = [{ id: 'primary', name: this.seed.name, url: this.seed.url, key: this.seed.key, enabled: true }];
      // Written only when the bucket answered: put while it is away would later overwrite a stored list.
      if (available) await this.list.put(this.destinations);
      this.log.info({ url: this.seed.url }, 'destinations seeded with the configured primary destination');
    }
    const recording = await this.recording.get();
    if (recording) this.recordingEnabled = recording.enabled;
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
