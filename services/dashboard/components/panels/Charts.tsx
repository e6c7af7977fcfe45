// Bitrate, RTT and loss over the last minutes, with the switcher's thresholds as reference lines.
import type { SwitcherState } from '@irlkit/shared';
import { useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChartPoint } from '../live/state';

const MARGIN = { top: 4, right: 8, bottom: 0, left: -12 };

export function Charts({ points, thresholds }: { points: ChartPoint[]; thresholds: SwitcherState['settings'] | undefined }) {
  const chartData = useMemo(() => points.map((p) => ({ ...p, label: new Date(p.t).toLocaleTimeString() })), [points]);
  const axes = (
    <>
      <CartesianGrid stroke="#263043" strokeDasharray="3 3" />
      <XAxis dataKey="label" hide />
      <YAxis stroke="#7d8aa5" fontSize={11} />
    </>
  );
  return (
    <section className="card chart">
      <h2>Bitrate</h2>
      <div className="plot" data-testid="chart" data-points={points.length}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={chartData} margin={MARGIN}>
            {axes}
            <Tooltip contentStyle={{ background: '#151a24', border: '1px solid #263043' }} />
            {thresholds && <ReferenceLine y={thresholds.lowEnterKbps} stroke="#e5484d" strokeDasharray="4 4" ifOverflow="extendDomain" />}
            {thresholds && <ReferenceLine y={thresholds.lowLeaveKbps} stroke="#46a758" strokeDasharray="4 4" ifOverflow="extendDomain" />}
            <Line type="monotone" dataKey="bitrate" stroke="#4c8dff" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <h2>RTT and loss</h2>
      <div className="plot small">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={chartData} margin={MARGIN}>
            {axes}
            {thresholds && thresholds.rttEnterMs > 0 && (
              <ReferenceLine y={thresholds.rttEnterMs} stroke="#e5484d" strokeDasharray="4 4" ifOverflow="extendDomain" />
            )}
            <Line type="monotone" dataKey="rtt" stroke="#f5a524" dot={false} isAnimationActive={false} />
            <Line type="monotone" dataKey="loss" stroke="#e5484d" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
