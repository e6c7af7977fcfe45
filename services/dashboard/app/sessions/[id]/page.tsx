// One session's report; anyone not logged in is sent to /login.
import { redirect } from 'next/navigation';
import { SessionReportView } from '../../../components/report/SessionReportView';
import { isLoggedIn } from '../../../lib/session';

export const dynamic = 'force-dynamic';

export default async function Session({ params }: { params: Promise<{ id: string }> }) {
  if (!(await isLoggedIn())) redirect('/login');
  return <SessionReportView id={(await params).id} />;
}
