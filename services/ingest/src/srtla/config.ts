// The SRTLA receiver's environment variables, as a zod shape the ingest configuration spreads in.
import { env } from '@irlkit/shared';
import { z } from 'zod';

export const srtlaEnv = {
  /** The senders' UDP port (bonded links); 0 turns SRTLA off. */
  SRTLA_PORT: z.coerce.number().int('must be a whole number').min(0).max(65535).default(5000),
  /** "::" listens on IPv6 and IPv4 (dual-stack); an IPv4 address listens on IPv4 only. */
  SRTLA_BIND: env.string('::'),
  /** Senders (groups) served at once. */
  SRTLA_MAX_GROUPS: env.int(4, 1, 256),
  /** Groups one source address may register; more are refused (a squatter cannot hold every slot). */
  SRTLA_MAX_GROUPS_PER_ADDRESS: env.int(2, 1, 256),
  /** Links per group; BELABOX's receiver allows 8. */
  SRTLA_MAX_LINKS: env.int(16, 1, 64),
  /** A link silent this long leaves its group (senders re-register a link after 4–5 s of silence). */
  SRTLA_LINK_TIMEOUT_MS: env.int(5000, 1000, 60_000),
  /** A group without links is forgotten after this; its sender must register again. */
  SRTLA_GROUP_TIMEOUT_MS: env.int(10_000, 1000, 300_000),
  /** REG1/REG2 packets accepted per source address per second. */
  SRTLA_REGISTRATIONS_PER_SECOND: env.int(20, 1, 1000),
};

export type SrtlaEnv = z.infer<z.ZodObject<typeof srtlaEnv>>;

/** The receiver's limits from the configuration. */
export function srtlaLimits(config: SrtlaEnv) {
  return {
    bindHost: config.SRTLA_BIND,
    port: config.SRTLA_PORT,
    maxGroups: config.SRTLA_MAX_GROUPS,
    maxGroupsPerAddress: config.SRTLA_MAX_GROUPS_PER_ADDRESS,
    maxLinksPerGroup: config.SRTLA_MAX_LINKS,
    linkTimeoutMs: config.SRTLA_LINK_TIMEOUT_MS,
    groupTimeoutMs: config.SRTLA_GROUP_TIMEOUT_MS,
    registrationsPerSecond: config.SRTLA_REGISTRATIONS_PER_SECOND,
  };
}
