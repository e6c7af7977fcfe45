// Building blocks shared by every payload schema.
import { z } from 'zod';

/** Milliseconds since the Unix epoch, as set by the publisher. */
export const timestampMs = z.number().int().nonnegative();
export const kbps = z.number().nonnegative().finite();
export const count = z.number().int().nonnegative();
/** "host:port" or "[v6]:port" of a network peer. */
export const peerAddress = z.string().min(1).max(128);
