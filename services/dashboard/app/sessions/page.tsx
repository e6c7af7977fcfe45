// The list of stream sessions; anyone not logged in is sent to /login.
import { redirect } from 'next/navigation';
import { SessionList } from '../../components/report/SessionList';
import { isLoggedIn } from '../../lib/session';

export const dynamic = 'force-dynamic';

export default async function Sessions() {
  if (!(await isLoggedIn())) redirect('/login');
  return <SessionList />;
}
