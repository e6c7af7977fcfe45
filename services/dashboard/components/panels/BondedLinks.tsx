// The SRTLA link table: each bonded link's rate, share and last packet; shown only while links exist.
import type { IngestSrtla } from '@irlkit/shared';

export function BondedLinks({ srtla }: { srtla: IngestSrtla | null }) {
  if (!srtla || srtla.links.length === 0) return null;
  return (
    <section className="card">
      <h2>Bonded links</h2>
      <table data-testid="srtla-table">
        <thead>
          <tr>
            <th>link</th>
            <th>kbit/s</th>
            <th>share</th>
            <th>last seen</th>
          </tr>
        </thead>
        <tbody>
          {srtla.links.map((l) => (
            <tr key={`${l.group}-${l.address}`} className={l.lastSeenMsAgo > 2000 ? 'stale' : ''}>
              <td>{l.address}</td>
              <td>{Math.round(l.bitrateKbps)}</td>
              <td>{Math.round(l.share * 100)}%</td>
              <td>{(l.lastSeenMsAgo / 1000).toFixed(1)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
