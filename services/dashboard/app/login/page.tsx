// The login page.
import { redirect } from 'next/navigation';
import { LoginForm } from '../../components/LoginForm';
import { isLoggedIn } from '../../lib/session';

export const dynamic = 'force-dynamic';

export default async function LoginPage() {
  if (await isLoggedIn()) redirect('/');
  return (
    <main className="login">
      <h1>irlkit</h1>
      <LoginForm />
    </main>
  );
}
