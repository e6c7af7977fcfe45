'use client';
// The control room: the live state from the event stream (live/), commands as POSTs whose replies are
// shown (commands.ts), one component per panel (panels/).
import { useCommands } from './commands';
import { useLiveEvents, useNow } from './live/useLiveEvents';
import { BondedLinks } from './panels/BondedLinks';
import { Charts } from './panels/Charts';
import { Controls } from './panels/Controls';
import { Destinations } from './panels/Destinations';
import { FeedStatus } from './panels/FeedStatus';
import { NotifyButton } from './panels/NotifyButton';
import { OnAirHeader } from './panels/OnAirHeader';
import { Preview } from './panels/Preview';
import { Recordings } from './panels/Recordings';
import { SwitcherSettings } from './panels/SwitcherSettings';
import { Timeline } from './panels/Timeline';

export function Dashboard({ desktopUrl, streamId }: { desktopUrl: string; streamId: string }) {
  const { live, connected } = useLiveEvents();
  const { command, reply } = useCommands();
  const now = useNow();
  const settings = live.switcher?.settings;
  return (
    <main className="grid">
      <OnAirHeader obs={live.obs} connected={connected} streamId={streamId} desktopUrl={desktopUrl}>
        <a href="/sessions" data-testid="sessions-link">
          Sessions
        </a>
        <NotifyButton live={live} />
      </OnAirHeader>
      <Preview obs={live.obs} screenshot={live.screenshot} />
      <FeedStatus
        stats={live.stats}
        statsTakenAt={live.statsTakenAt}
        link={live.link}
        switcher={live.switcher}
        containers={live.containers}
        now={now}
        command={command}
      />
      <Controls obs={live.obs} command={command} reply={reply} />
      <Destinations restream={live.restream} command={command} />
      <Recordings recording={live.recording} command={command} />
      <Charts points={live.points} thresholds={settings} />
      <BondedLinks srtla={live.srtla} />
      <Timeline entries={live.timeline} />
      {/* Keyed by the published settings: a change from anywhere refills the form. */}
      {settings && <SwitcherSettings key={JSON.stringify(settings)} settings={settings} command={command} />}
    </main>
  );
}
