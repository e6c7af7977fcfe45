// Puts the SRTLA receiver on the bus: its link table on `ingest.srtla` once a second, links joining
// and leaving as timeline entries on `log`.
import { type Bus, timeline } from '@irlkit/shared';
import type { SrtlaReceiver } from './receiver.ts';

export function publishSrtla(bus: Bus, receiver: SrtlaReceiver, options: { source?: string; intervalMs?: number } = {}): { stop(): void } {
  const events = timeline(bus, options.source ?? 'ingest');
  const onJoin = ({ link, group, links }: { link: string; group: string; links: number }) =>
    events.info(`Bonded link ${link} joined (group ${group}, ${links} link${links === 1 ? '' : 's'})`);
  const onLeave = ({ link, group, reason }: { link: string; group: string; reason: string }) =>
    events.warn(`Bonded link ${link} left (group ${group}): ${reason}`);
  receiver.on('join', onJoin);
  receiver.on('leave', onLeave);
  // Quiet while nobody bonds; one last table after the last group goes, so the dashboard empties.
  let wasActive = false;
  const timer = setInterval(() => {
    const table = receiver.stats();
    if (table.groups === 0 && !wasActive) return;
    wasActive = table.groups > 0;
    bus.publish('ingest.srtla', table);
  }, options.intervalMs ?? 1000);
  return {
    stop: () => {
      clearInterval(timer);
      receiver.off('join', onJoin);
      receiver.off('leave', onLeave);
    },
  };
}
