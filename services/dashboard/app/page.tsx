// The control room (the operator's page over every stream, in the operator role); anyone not logged in is sent to /login.
import { redirect } from 'next/navigation';
import { Dashboard } from '../components/Dashboard';
import { OperatorView } from '../components/operator/OperatorView';
import { config } from '../lib/config';
import { isLoggedIn } from '../lib/session';

export const dynamic = 'force-dynamic';

export default async function Home() {
  if (!(await isLoggedIn())) redirect('/login');
  if (config().role === 'operator') return <OperatorView />;
  return <Dashboard desktopUrl={config().desktopUrl} streamId={config().common.streamId} />;
}
