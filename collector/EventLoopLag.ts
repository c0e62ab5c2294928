/**
 * How far behind the collector's event loop is. Decoding and validating a batch is synchronous work; when
 * requests arrive faster than one core can decode them they queue as received bytes, every Write waits
 * behind all the others (a unary writer then hits its own deadline instead of hearing "not now", issue 18.5),
 * and a stream's hello waits behind them too. While the loop's delay over the last window is above
 * COLLECTOR_MAX_LOOP_DELAY_MS, admission refuses unary Writes before decoding them (RESOURCE_EXHAUSTED with a
 * hint), which is what sheds the work.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** EventLoopLag samples the event loop's delay in windows and says when it is too far behind. */
export class EventLoopLag {
  private readonly histogram: IntervalHistogram;
  private timer: NodeJS.Timeout | null = null;
  private lastMaxMs = 0;
  private lastTickMs = Date.now();

  constructor(
    private readonly maxDelayMs: number,
    private readonly windowMs = 250,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
  }

  /**
   * behind is true while the longest delay of the newest window is above the bound, or while the window's own
   * timer is overdue by more than the bound: a loop working through a pile of received requests runs them all
   * before any timer, and the requests it decodes meanwhile must already see that it is behind.
   */
  get behind(): boolean {
    return this.lastMaxMs > this.maxDelayMs || (this.timer !== null && Date.now() - this.lastTickMs > this.windowMs + this.maxDelayMs);
  }

  /** delayMs is the longest delay of the newest window, ms. */
  get delayMs(): number {
    return this.lastMaxMs;
  }

  /** start begins measuring (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.histogram.enable();
    this.lastTickMs = Date.now();
    this.timer = setInterval(() => {
      // The timer itself runs late when the loop is blocked: the window's max includes that wait.
      this.lastMaxMs = this.histogram.max / 1e6;
      this.lastTickMs = Date.now();
      this.histogram.reset();
    }, this.windowMs);
    this.timer.unref();
  }

  /** stop ends measuring. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.histogram.disable();
  }
}
