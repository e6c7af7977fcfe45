// Default switcher settings; the README explains each number.
import { DEFAULT_PICTURE_LAG_MS, type SwitcherConfig } from '@irlkit/shared';

export const DEFAULT_SWITCHER_CONFIG: SwitcherConfig = {
  lowEnterKbps: 800,
  lowLeaveKbps: 1500,
  rttEnterMs: 1500,
  rttLeaveMs: 800,
  lowWindowMs: 2000,
  recoverHoldMs: 5000,
  offlineRecoverHoldMs: 200,
  resumeHoldMs: 4000,
  pictureLagMs: DEFAULT_PICTURE_LAG_MS,
  flapWindowMs: 120_000,
  maxRecoverHoldMs: 30_000,
  scenes: { live: 'Live', low: 'Low', offline: 'Offline' },
  mediaInput: 'SRT feed',
  onlyWhileStreaming: false,
  stopAfterOfflineMin: 0,
};
