// Which recordings to delete so the folder stays within its size and age budget: oldest first, never
// the one being written. Pure: the recorder lists the folder and deletes what this returns.
export interface RecordingOnDisk {
  name: string;
  bytes: number;
  modifiedAt: number;
}

export interface RecordingBudget {
  maxBytes: number;
  maxAgeMs: number;
}

export function recordingsToDelete(files: readonly RecordingOnDisk[], budget: RecordingBudget, now: number, current: string | null): string[] {
  const oldestFirst = [...files].sort((a, b) => a.modifiedAt - b.modifiedAt || a.name.localeCompare(b.name));
  let total = oldestFirst.reduce((sum, f) => sum + f.bytes, 0);
  const doomed: string[] = [];
  for (const file of oldestFirst) {
    if (file.name === current) continue;
    if (total > budget.maxBytes || now - file.modifiedAt > budget.maxAgeMs) {
      doomed.push(file.name);
      total -= file.bytes;
    }
  }
  return doomed;
}

/** A recording's file name: stream id and UTC start time, sortable and safe in a URL. */
export function recordingFileName(streamId: string, startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${streamId}-${stamp}.mkv`;
}
