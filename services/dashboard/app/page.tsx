// The control room; anyone not logged in is sent to /login.
import { redirect } from 'next/navigation';
import { Dashboard } from '../components/Dashboard';
import { config } from '../lib/config';
import { isLoggedIn } from '../lib/session';

export const dynamic = 'force-dynamic';

export default async function Home() {
  if (!(await isLoggedIn())) redirect('/login');
  return <Dashboard desktopUrl={config().desktopUrl} streamId={config().common.streamId} />;
}
