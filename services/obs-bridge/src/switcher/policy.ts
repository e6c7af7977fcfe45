// The switcher's policy: LIVE / LOW / OFFLINE from link events and statistics, and the scene
// actions that follow. Degrade exactly when viewers would see it, recover carefully.
// Pure: time is passed in, actions are returned.
import { type SwitcherMode, type SwitcherScenes, type SwitcherSettings, type SwitcherStateName, switcherReasons } from '@irlkit/shared';

export type SwitcherAction =
  | { type: 'switchScene'; scene: string; reason: string }
  /** `notBefore`: wait until then (OBS's old session is still being ended). */
  /** `fresh`: a new player for the input (a new connection timed from now), not OBS's restart. */
  | { type: 'restartMedia'; reason: string; notBefore?: number; fresh?: boolean }
  | { type: 'stopStream'; reason: string };

export interface PolicySnapshot {
  state: SwitcherStateName;
  since: number;
  reason: string;
  mode: SwitcherMode;
  /** The scene the switcher wants on program (whether or not it may put it there). */
  wantedScene: string;
}

/** What ingest says about a lost feed: when its last packet came and how long the buffers behind it play on. */
export interface FeedLoss {
  lastPacketTs: number | null;
  /** SRT receive latency plus the output hop's: the picture keeps moving this long after the last packet. */
  playoutMs: number | null;
  /**
   * The SRT receive latency alone: a feed that resumes later than this after its last packet has lost
   * the packets in between for good (the receiver drops what comes after its play time).
   */
  srtLatencyMs?: number | null;
}

/**
 * After a lost feed, the media input is restarted no sooner than this after the feed's buffers ran
 * dry. Measured with OBS 29 when ingest still closed OBS's connection then on a relay's death (kill -9 of
 * srt-live-transmit, its restart 100–200 ms later): a restart 10–30 ms after that end was lost in OBS's own
 * 1 s reconnect delay; one 250 ms or more after it reconnected within 10 ms. Since ingest keeps that connection
 * open (silent) for a fresh player to replace, the wait is no longer measured against that end; it is kept, and
 * it keeps the restart apart from the switch to OFFLINE (below).
 */
export const RESTART_AFTER_SESSION_END_MS = 300;
/**
 * How far past its deadline a lost feed may stay on air while OBS's input is seen still moving: OBS's lag from
 * ingest to its picture differs from one open of its player to the next (up to 0.9 s over pictureLagMs measured,
 * docs/BENCHMARKS.md), and cutting moving picture is what the deadline is there to avoid.
 */
export const MAX_DEADLINE_EXTENSION_MS = 1500;
/** A picture seen moving keeps OFFLINE at least this far off: the freeze watch needs 70 ms of identical shots (about 100 ms with its looks). */
export const MOVING_PICTURE_GRACE_MS = 200;

export class SwitcherPolicy {
  private state: SwitcherStateName = 'offline';
  private since: number;
  private reason: string = switcherReasons.waitingForFeed;
  private mode: SwitcherMode = 'auto';
  private linkUp = false;
  /** Whether ingest has told us about the link at all (until then, statistics stand in). */
  private sawLinkEvent = false;
  /** When the link last came up (for the OFFLINE → LIVE hold). */
  private linkUpSince: number | null = null;
  /** How the link last came up: a fresh connection, or a stall that resumed. */
  private linkUpWhy: 'connected' | 'resumed' = 'connected';
  /** Frames seen moving in OBS since the link came up. */
  private framesMoving = false;
  /** Start of the current run of bad (resp. good) samples. */
  private badSince: number | null = null;
  private goodSince: number | null = null;
  private badReason = '';
  private programScene: string | null = null;
  private streaming = false;
  private stopIssued = false;
  /**
   * Outages viewers saw (OFFLINE from LIVE/LOW, LIVE → LOW, the link dropping again during OFFLINE),
   * for flap damping. Gaps the latency buffers hid are not among them.
   */
  private falls: number[] = [];
  /**
   * A lost feed still playing out of the latency buffers: OFFLINE as soon as the media input's picture
   * is seen frozen after `watchFrom` (the buffers nominally dry), at `at` at the latest, unless the feed
   * resumes first (then viewers never saw the gap).
   */
  private pendingOffline: {
    at: number;
    /** The latest `at` may be pushed to while the input's picture still moves. */
    latestAt: number;
    watchFrom: number;
    reason: string;
    /** After this, a resumed feed has lost packets for good: its picture freezes or breaks up anyway. */
    lostAfter: number | null;
    /** The feed resumed after `lostAfter`: when the switch comes, restart the input (the delay). */
    resumedTooLate?: boolean;
    /** When the freeze watch last compared the input's picture with the one before it (after `watchFrom`). */
    lookedAt: number | null;
  } | null = null;
  /** When the last lost feed's buffers ran dry; null if unknown. */
  private obsSessionEndsAt: number | null = null;

  constructor(
    private config: SwitcherSettings,
    private readonly scenes: SwitcherScenes,
    now: number,
  ) {
    this.since = now;
  }

  snapshot(): PolicySnapshot {
    return { state: this.state, since: this.since, reason: this.reason, mode: this.mode, wantedScene: this.sceneFor(this.state) };
  }

  /** The feed is up but the picture has not been seen moving yet: the runtime should check frames. */
  awaitingFrames(): boolean {
    return this.linkUp && !this.framesMoving && this.state === 'offline';
  }

  setSettings(settings: SwitcherSettings): SwitcherAction[] {
    this.config = settings;
    return this.enforce('settings changed');
  }

  setMode(mode: SwitcherMode): SwitcherAction[] {
    this.mode = mode;
    return mode === 'auto' ? this.enforce('automatic switching on') : [];
  }

  /**
   * OBS's program scene changed (by the switcher, the streamer, or anything else). A scene of the
   * streamer's own is left alone; picking one of the switcher's scenes hands control back to it.
   * Null is a scene the bridge cannot name (one made on the desktop with a name the contract cannot
   * carry, or OBS not read yet): not one of the switcher's, so it is left alone too.
   */
  observeProgramScene(scene: string | null, now?: number): SwitcherAction[] {
    this.programScene = scene;
    return now === undefined ? [] : this.enforce('back under automatic control');
  }

  observeStreaming(streaming: boolean, _now: number): SwitcherAction[] {
    const was = this.streaming;
    this.streaming = streaming;
    if (!streaming) this.stopIssued = false;
    return streaming && !was ? this.enforce('stream started') : [];
  }

  /**
   * The feed came up (connected, resumed). `obsSessionEnded`: ingest ended OBS's reading of the feed since the last
   * connection (srt-live-transmit died), so OBS's player has ended and has no session to re-time.
   */
  linkConnected(now: number, why: string, { fromLinkEvent = true, obsSessionEnded = false } = {}): SwitcherAction[] {
    if (fromLinkEvent) this.sawLinkEvent = true;
    if (this.linkUp) return [];
    this.linkUp = true;
    this.linkUpSince = now;
    this.linkUpWhy = why === 'connected' ? 'connected' : 'resumed';
    this.resetRuns();
    const pending = this.pendingOffline;
    this.pendingOffline = null;
    if (pending && why !== 'connected') {
      this.framesMoving = true;
      // Resumed within the SRT latency: the late packets fill the gap before their play time, the picture
      // never stops, viewers see nothing.
      if (pending.lostAfter === null || now <= pending.lostAfter) return [];
      // Resumed later: the receiver dropped what came after its play time, so the picture freezes (or
      // breaks up until a keyframe) when the buffer runs dry, whatever arrives now. The switch stays due.
      this.pendingOffline = { ...pending, resumedTooLate: true };
      return [];
    }
    this.framesMoving = false;
    // After a real disconnect OBS's media source holds a dead connection: restart it at once. A restart, not a fresh
    // player: it keeps the session OBS holds and only re-times it, and the stream plays about 0.1 s sooner than
    // through a fresh player, for the rest of the session (the viewers bench: steady 3.10 against 3.21 s, 3.13-3.16
    // against 3.29-3.35 s after long outages). It also keeps the player's demuxer, whose PTS-wrap guessing the feed
    // input has off (desktop's provision/obs-files.ts, `correct_ts_overflow=0`). Not before the lost feed's buffers
    // ran dry and that settled (RESTART_AFTER_SESSION_END_MS). When ingest has cut OBS's reading off (the relay died),
    // there is nothing to re-time: a restart keeps the silent connection until ingest closes it (Live 5.1 s after a
    // kill -9, test/feed-faults.test.ts), and before ingest kept it open, a restart of the ended player showed the
    // picture 1-2 s later than a fresh one (`pnpm faults feed-relay`): that sender gets a fresh player.
    if (why === 'connected') {
      // Nor just after the switch to OFFLINE that may come with it: a restart OBS gets while it takes the
      // feed off program is lost the same way.
      const settleFrom = Math.max(this.obsSessionEndsAt ?? 0, pending ? now : 0);
      const notBefore = settleFrom === 0 ? 0 : settleFrom + RESTART_AFTER_SESSION_END_MS;
      const restart: SwitcherAction = {
        type: 'restartMedia',
        reason: obsSessionEnded ? 'feed reconnected after its relay restarted' : 'feed reconnected',
        ...(notBefore > now ? { notBefore } : {}),
        ...(obsSessionEnded ? { fresh: true } : {}),
      };
      return [...(pending ? this.enter('offline', now, pending.reason) : []), restart];
    }
    // A stall viewers saw: the input has played out and waited through the gap, which leaves OBS
    // further behind the sender than before. Open it afresh while OFFLINE is on anyway, so LIVE comes
    // back at the steady delay: a fresh player drops what OBS buffered and is timed from now (OBS's own
    // restart would keep the session and add the gap to its clock). Its first frames come about 2.4 s
    // later, within the hold before LIVE after a resume.
    return this.state === 'offline' ? [{ type: 'restartMedia', reason: 'feed resumed after an outage viewers saw', fresh: true }] : [];
  }

  /**
   * The feed is gone (stalled, disconnected). The picture keeps moving until the buffers behind the
   * last packet run dry (SRT latency + output hop + OBS's own lag): OFFLINE then, not before. Without
   * that knowledge, OFFLINE at once.
   */
  linkLost(now: number, reason: string, loss?: FeedLoss): SwitcherAction[] {
    this.sawLinkEvent = true;
    const wasUp = this.linkUp;
    this.linkUp = false;
    this.linkUpSince = null;
    this.resetRuns();
    this.obsSessionEndsAt = loss && loss.lastPacketTs !== null && loss.playoutMs !== null ? loss.lastPacketTs + loss.playoutMs : null;
    const freezeAt = this.freezeAt(loss);
    if (this.state !== 'offline' && freezeAt !== null && freezeAt > now && (wasUp || this.pendingOffline)) {
      const drainedAt = freezeAt - this.config.pictureLagMs;
      const lostAfter = loss?.lastPacketTs != null && loss.srtLatencyMs != null ? loss.lastPacketTs + loss.srtLatencyMs : null;
      this.pendingOffline = {
        at: Math.min(freezeAt, this.pendingOffline?.at ?? freezeAt),
        latestAt: Math.min(freezeAt, this.pendingOffline?.at ?? freezeAt) + MAX_DEADLINE_EXTENSION_MS,
        watchFrom: Math.min(drainedAt, this.pendingOffline?.watchFrom ?? drainedAt),
        reason,
        lostAfter: this.pendingOffline ? this.pendingOffline.lostAfter : lostAfter,
        lookedAt: this.pendingOffline?.lookedAt ?? null,
      };
      return [];
    }
    this.pendingOffline = null;
    this.framesMoving = false;
    // A link that drops again while viewers watch OFFLINE is still flapping: it counts too.
    if (this.state === 'offline' && wasUp) this.noteFall(now);
    return this.enter('offline', now, reason);
  }

  /**
   * The feed is up and on air (LIVE or LOW): the runtime should watch that its picture keeps moving
   * (`pictureFrozen`). Not while a lost feed plays out of the buffers (a freeze then is the buffers
   * running dry: `watchingForFreeze`), nor while OFFLINE waits for a moving picture (`awaitingFrames`).
   */
  watchingPicture(): boolean {
    return this.linkUp && this.state !== 'offline' && !this.pendingOffline;
  }

  /**
   * A lost feed whose buffers should have run dry by now: the runtime should watch the media input and
   * call `pictureFroze` the moment its picture stops, which is when viewers would see it freeze.
   */
  watchingForFreeze(now: number): boolean {
    return this.pendingOffline !== null && now >= this.pendingOffline.watchFrom;
  }

  /**
   * The media input showed a new picture while a lost feed plays out past the point its buffers should have run
   * dry: it is still moving on air, so OFFLINE waits (up to MAX_DEADLINE_EXTENSION_MS past the deadline) for it
   * to freeze. Not for a feed that came back too late: its picture after the gap is the broken-up resumed one.
   */
  pictureMoved(now: number): void {
    const pending = this.noteLook(now);
    if (!pending || pending.resumedTooLate) return;
    pending.at = Math.min(pending.latestAt, Math.max(pending.at, now + MOVING_PICTURE_GRACE_MS));
  }

  /** The freeze watch compared the input's picture with the one before it and found it unchanged (not yet frozen). */
  pictureUnchanged(now: number): void {
    this.noteLook(now);
  }

  /** A look by the freeze watch while a lost feed plays out past `watchFrom`: the pending switch it counts for. */
  private noteLook(now: number) {
    const pending = this.pendingOffline;
    if (!pending || now < pending.watchFrom) return null;
    pending.lookedAt = Math.max(pending.lookedAt ?? now, now);
    return pending;
  }

  /**
   * A lost feed's deadline is due once the freeze watch has looked at the picture within MOVING_PICTURE_GRACE_MS
   * before it and seen nothing that moves it on (a look that saw it move would have pushed it): a deadline that came
   * before any such look cut picture still moving on air (CI, and the viewers e2e with pictureLagMs 0: the watch
   * starts at the nominal drain and OBS's screenshots under load take longer than the lag left it). Without a look
   * (OBS not answering, which leaves no switch to make anyway) at `latestAt`; a feed that resumed too late, and a
   * deadline set before the buffers run dry, at `at`.
   */
  private deadlineDue(now: number): boolean {
    const pending = this.pendingOffline;
    if (!pending || now < pending.at) return false;
    // A deadline before the buffers run dry (a negative pictureLagMs: the streamer leaves early on purpose) has nothing
    // to wait for: the watch starts only then.
    if (pending.resumedTooLate || now >= pending.latestAt || pending.at < pending.watchFrom) return true;
    return pending.lookedAt !== null && pending.lookedAt >= pending.at - MOVING_PICTURE_GRACE_MS;
  }

  /** The media input's picture stopped while a lost feed played out: OFFLINE now. */
  pictureFroze(now: number): SwitcherAction[] {
    if (!this.pendingOffline) return [];
    const { reason } = this.pendingOffline;
    return this.firePendingOffline(now, switcherReasons.pictureFroze(reason));
  }

  /**
   * The lost feed's picture froze (seen, or by the deadline): OFFLINE. A feed that came back too late to
   * fill the gap is up again by then: its input is restarted while OFFLINE is on anyway, as after any
   * outage viewers saw, so LIVE comes back at the steady delay and by the moving-picture rule.
   */
  private firePendingOffline(now: number, reason: string): SwitcherAction[] {
    const resumed = this.pendingOffline?.resumedTooLate === true && this.linkUp;
    this.pendingOffline = null;
    this.framesMoving = false;
    const actions = this.enter('offline', now, reason);
    return resumed ? [...actions, { type: 'restartMedia', reason: 'feed resumed too late to fill the gap', fresh: true }] : actions;
  }

  /** When the picture of a feed lost this way would freeze on OBS's program at the latest; null if unknown. */
  freezeAt(loss?: FeedLoss): number | null {
    if (!loss || loss.lastPacketTs === null || loss.playoutMs === null) return null;
    return loss.lastPacketTs + loss.playoutMs + this.config.pictureLagMs;
  }

  /** Frames are moving in OBS's media input again (checked by the runtime after the link came up). */
  framesConfirmed(now: number): SwitcherAction[] {
    this.framesMoving = true;
    return this.tick(now);
  }

  /**
   * The feed input's picture stopped changing while data kept arriving (the runtime restarted the
   * input once and waited): OFFLINE, and back only by the moving-picture rule.
   */
  pictureFrozen(now: number, reason: string = switcherReasons.pictureFrozen): SwitcherAction[] {
    if (!this.linkUp || this.state === 'offline') return [];
    this.framesMoving = false;
    return this.enter('offline', now, reason);
  }

  /**
   * The feed input was opened again under the switcher (OBS restarted): until its picture is seen
   * moving, nothing may show it, so a returned OBS never puts Live on program with no picture.
   */
  inputReopened(now: number, reason: string): SwitcherAction[] {
    this.framesMoving = false;
    if (!this.linkUp || this.state === 'offline') return this.enforce(reason);
    return this.enter('offline', now, reason);
  }

  /** A statistics sample from ingest. */
  sample(now: number, bitrateKbps: number, rttMs: number | null, connected: boolean): SwitcherAction[] {
    if (!connected) return this.linkUp ? this.linkLost(now, switcherReasons.noConnection) : this.tick(now);
    // While a lost feed plays out of the buffers, the receive rate says nothing viewers see.
    if (this.pendingOffline) return this.tick(now);
    // Started while the feed was already up (no link event to see): treat as a fresh connection.
    if (!this.sawLinkEvent && !this.linkUp && bitrateKbps > 0)
      return [...this.linkConnected(now, 'connected'), ...this.sample(now, bitrateKbps, rttMs, connected)];
    const c = this.config;
    const low = bitrateKbps < c.lowEnterKbps;
    const slow = c.rttEnterMs > 0 && rttMs !== null && rttMs > c.rttEnterMs;
    const good = bitrateKbps >= c.lowLeaveKbps && (c.rttEnterMs === 0 || rttMs === null || rttMs <= c.rttLeaveMs);
    if (low || slow) {
      this.badSince ??= now;
      this.badReason = low ? `bitrate ${Math.round(bitrateKbps)} kbit/s under ${c.lowEnterKbps}` : `RTT ${Math.round(rttMs as number)} ms over ${c.rttEnterMs}`;
    } else this.badSince = null;
    if (good) this.goodSince ??= now;
    else this.goodSince = null;
    return this.tick(now);
  }

  /**
   * The hold before going back to LIVE: the base hold, doubled for every other outage viewers saw
   * (OFFLINE, or a fall to LOW) within the flap window, so a link that keeps dropping stays on the
   * fallback instead of flapping. Gaps the latency buffer hid do not count.
   */
  holdMs(base: number, now: number): number {
    const c = this.config;
    const recent = this.falls.filter((t) => now - t <= c.flapWindowMs).length;
    if (recent <= 1) return base;
    return Math.min(Math.max(base, 1000) * 2 ** (recent - 1), Math.max(base, c.maxRecoverHoldMs));
  }

  /** Time passing: hold times and windows elapse here. */
  tick(now: number): SwitcherAction[] {
    const c = this.config;
    const actions: SwitcherAction[] = [];
    if (this.pendingOffline && this.deadlineDue(now)) {
      actions.push(...this.firePendingOffline(now, this.pendingOffline.reason));
    } else if (this.state === 'offline') {
      if (
        this.linkUp &&
        this.framesMoving &&
        this.linkUpSince !== null &&
        now - this.linkUpSince >= this.holdMs(this.linkUpWhy === 'resumed' ? c.resumeHoldMs : c.offlineRecoverHoldMs, now)
      ) {
        const lowNow = this.badSince !== null && now - this.badSince >= Math.min(c.lowWindowMs, 500);
        const how = this.linkUpWhy === 'resumed' ? 'link steady again' : 'feed back';
        actions.push(...this.enter(lowNow ? 'low' : 'live', now, lowNow ? `${how}, but ${this.badReason}` : `${how}, picture moving`));
      } else if (this.streaming && c.stopAfterOfflineMin > 0 && !this.stopIssued && now - this.since >= c.stopAfterOfflineMin * 60_000) {
        this.stopIssued = true;
        actions.push({ type: 'stopStream', reason: `offline for ${c.stopAfterOfflineMin} min` });
      }
    } else if (this.state === 'live') {
      if (this.badSince !== null && now - this.badSince >= c.lowWindowMs) actions.push(...this.enter('low', now, this.badReason));
    } else if (this.state === 'low') {
      const hold = this.holdMs(c.recoverHoldMs, now);
      if (this.goodSince !== null && now - this.goodSince >= hold) {
        actions.push(...this.enter('live', now, `healthy for ${Math.round(hold / 100) / 10} s`));
      }
    }
    return actions;
  }

  private enter(state: SwitcherStateName, now: number, reason: string): SwitcherAction[] {
    if (state === this.state) return this.enforce(reason);
    if ((this.state === 'live' && state === 'low') || (this.state !== 'offline' && state === 'offline')) this.noteFall(now);
    this.state = state;
    this.since = now;
    this.reason = reason;
    this.resetRuns();
    return this.enforce(reason);
  }

  /** Puts the wanted scene on program if the switcher may: auto mode, one of its own scenes showing, streaming if required. */
  private enforce(reason: string): SwitcherAction[] {
    if (this.mode !== 'auto') return [];
    if (this.config.onlyWhileStreaming && !this.streaming) return [];
    const own = Object.values(this.scenes);
    if (this.programScene === null || !own.includes(this.programScene)) return [];
    const wanted = this.sceneFor(this.state);
    if (this.programScene === wanted) return [];
    return [{ type: 'switchScene', scene: wanted, reason }];
  }

  private sceneFor(state: SwitcherStateName): string {
    return this.scenes[state];
  }

  private noteFall(now: number): void {
    this.falls = [...this.falls.filter((t) => now - t <= this.config.flapWindowMs), now];
  }

  private resetRuns(): void {
    this.badSince = null;
    this.goodSince = null;
  }
}
