// The streamer's switcher settings: a form over the settings the switcher publishes, checked against
// the shared `switcher.config` patch schema before it is sent, so a bad field is named on the spot.
// The schema (and zod with it, about a third of a phone's first load) is fetched on the first save.
import type { SwitcherState } from '@irlkit/shared/schemas';
import { useState } from 'react';
import type { Command } from '../commands';
import { checked } from '../form-check';

const FIELDS = [
  ['lowEnterKbps', 'Low below (kbit/s)'],
  ['lowLeaveKbps', 'Live again above (kbit/s)'],
  ['rttEnterMs', 'Low when RTT over (ms, 0 = off)'],
  ['lowWindowMs', 'Low after (ms)'],
  ['recoverHoldMs', 'Live again after (ms)'],
  ['stopAfterOfflineMin', 'Stop stream after offline (min, 0 = never)'],
] as const;
type Field = (typeof FIELDS)[number][0];

export function SwitcherSettings({ settings, command }: { settings: SwitcherState['settings']; command: Command }) {
  const [values, setValues] = useState<Record<Field, string>>(() => Object.fromEntries(FIELDS.map(([k]) => [k, String(settings[k])])) as Record<Field, string>);
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <section className="card">
      <h2>Switcher settings</h2>
      <form
        className="settings"
        data-testid="settings"
        onSubmit={async (e) => {
          e.preventDefault();
          const numbers = Object.fromEntries(FIELDS.map(([k]) => [k, values[k].trim() === '' ? Number.NaN : Number(values[k])]));
          const label = (field: string) => FIELDS.find(([k]) => k === field)?.[1] ?? field;
          const patch = await checked((s) => s.switcherConfigPatch.safeParse(numbers), setProblem, 'settings', label);
          if (patch) void command('switcher.config', patch, 'save settings');
        }}
      >
        {FIELDS.map(([key, label]) => (
          <label key={key}>
            {label}
            <input inputMode="numeric" value={values[key]} data-testid={`setting-${key}`} onChange={(e) => setValues({ ...values, [key]: e.target.value })} />
          </label>
        ))}
        <button type="submit" data-testid="save-settings">
          Save
        </button>
        {problem && (
          <p className="error" role="alert" data-testid="settings-problem">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
