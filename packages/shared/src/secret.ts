// Comparing a secret someone sent with the configured one, in time that does not depend on where
// they differ (both are hashed first, so their lengths do not show either).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function sameSecret(given: string, configured: string): boolean {
  return timingSafeEqual(digest(given), digest(configured));
}
