// The dashboard's shell: dark theme, phone-first viewport.
import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = { title: 'irlkit', description: 'IRL stream control room' };
export const viewport: Viewport = { width: 'device-width', initialScale: 1, themeColor: '#0d1017' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
