// Tells obs-bridge how many dashboard pages are open (`dashboard.viewers`), so that it takes preview
// screenshots only while someone watches: on every change of the count, and again every few seconds while
// it is not 0 (obs-bridge stops on 0, or when the repeats stop coming, e.g. this server died).
export const VIEWERS_REPEAT_MS = 5000;

export class ViewerBeacon {
  private count = 0;
  private repeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly publish: (viewers: number) => void,
    private readonly repeatMs = VIEWERS_REPEAT_MS,
  ) {}

  /** The number of open pages (event streams) now. */
  set(count: number): void {
    if (count === this.count) return;
    this.count = count;
    this.publish(count);
    if (count > 0 && !this.repeat) {
      this.repeat = setInterval(() => this.publish(this.count), this.repeatMs);
      this.repeat.unref(); // never what keeps the server's process alive
    }
    if (count === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.repeat);
    this.repeat = undefined;
  }
}
