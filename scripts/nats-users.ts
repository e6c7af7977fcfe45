// Writes services/nats/users.conf, compose's NATS users, from the permissions table in
// packages/shared/src/permissions.ts (passwords come from nats' environment). Run after changing it:
// `pnpm nats-users`; a test fails while the file and the table disagree.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { composeNatsUsers } from '@irlkit/shared';

const file = resolve(import.meta.dirname, '../services/nats/users.conf');
writeFileSync(file, composeNatsUsers());
process.stdout.write(`wrote ${file}\n`);
