'use client';
// The password form; shows the server's refusal (wrong password, too many attempts).
import { type FormEvent, useState } from 'react';

export function LoginForm() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    const password = new FormData(event.currentTarget).get('password');
    const response = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });
    setBusy(false);
    if (response.ok) window.location.href = '/';
    else setError(((await response.json().catch(() => ({}))) as { error?: string }).error ?? 'login failed');
  }
  return (
    <form onSubmit={submit} className="card">
      <label htmlFor="password">Password</label>
      <input id="password" name="password" type="password" autoComplete="current-password" required data-testid="password" />
      <button type="submit" disabled={busy} data-testid="login">
        Log in
      </button>
      <p className="error" role="alert" data-testid="login-error">
        {error}
      </p>
    </form>
  );
}
