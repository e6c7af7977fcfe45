// The SRTLA link table: each bonded link's rate, share and last packet; shown only while links exist.
import type { IngestSrtla } from '@irlkit/shared';
import { type Column, Table } from '../Table';

type Link = IngestSrtla['links'][number];

const COLUMNS: Array<Column<Link>> = [
  { label: 'link', cell: (l) => l.address },
  { label: 'kbit/s', cell: (l) => Math.round(l.bitrateKbps) },
  { label: 'share', cell: (l) => `${Math.round(l.share * 100)}%` },
  { label: 'last seen', cell: (l) => `${(l.lastSeenMsAgo / 1000).toFixed(1)} s` },
];

export function BondedLinks({ srtla }: { srtla: IngestSrtla | null }) {
  if (!srtla || srtla.links.length === 0) return null;
  return (
    <section className="card">
      <h2>Bonded links</h2>
      <Table
        testId="srtla-table"
        columns={COLUMNS}
        rows={srtla.links}
        rowKey={(l) => `${l.group}-${l.address}`}
        rowClass={(l) => (l.lastSeenMsAgo > 2000 ? 'stale' : undefined)}
      />
    </section>
  );
}
