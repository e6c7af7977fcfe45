// Puts the SRTLA receiver on the bus: its link table on `ingest.srtla` once a second, links joining
// and leaving as timeline entries on `log` (and in the service's log).
import { type Bus, type Logger, timeline } from '@irlkit/shared';
import type { SrtlaJoin, SrtlaLeave, SrtlaReceiver } from './receiver.ts';

export function publishSrtla(bus: Bus, receiver: SrtlaReceiver, log: Logger, options: { source?: string; intervalMs?: number } = {}): { stop(): void } {
  const events = timeline(bus, options.source ?? 'ingest');
  const onJoin = ({ link, group, links }: SrtlaJoin) => {
    log.info({ link, group, links }, 'SRTLA link joined');
    events.info(`Bonded link ${link} joined (group ${group}, ${links} link${links === 1 ? '' : 's'})`);
  };
  const onLeave = ({ link, group, reason }: SrtlaLeave) => {
    log.warn({ link, group, reason }, 'SRTLA link left');
    events.warn(`Bonded link ${link} left (group ${group}): ${reason}`);
  };
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
