/**
 * The collector's memory as the operating system sees it (RSS), not only as admission estimates it. V8 lets
 * its heap grow to several times the live data before a full collection, and nothing in a Node process can
 * lower the heap limit once it runs, so under a burst the garbage of decoded batches, not the batches, drove
 * RSS past 900 MB while the estimated pending bytes stayed under 64 MiB (issue 18.5). The governor samples
 * RSS; above SOFT_FRACTION of COLLECTOR_MAX_RSS_BYTES it asks V8 for a full collection (at most once per
 * MIN_GC_GAP_MS), and while RSS stays above PRESSURE_FRACTION after that, it reports pressure: admission then
 * treats the collector as full (RESOURCE_EXHAUSTED with a hint for Write, paused streams) until RSS falls
 * back under the soft line.
 */
import v8 from "node:v8";
import vm from "node:vm";

/** SOFT_FRACTION: above this fraction of the bound a full collection is requested. */
export const SOFT_FRACTION = 0.6;
/** PRESSURE_FRACTION: at or above this fraction after a collection the collector refuses and pauses. */
export const PRESSURE_FRACTION = 0.8;
/** MIN_GC_GAP_MS: forced collections are at least this far apart (each pauses 0.1-0.4 s on a few hundred MB). */
export const MIN_GC_GAP_MS = 1_000;

/** exposeGc returns V8's full-collection function (made available at run time, as --expose-gc would). */
export function exposeGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/** MemoryGovernorOptions: the bound, and the probes (injected so tests can drive them). */
export interface MemoryGovernorOptions {
  maxRssBytes: number;
  rss?: () => number;
  gc?: () => void;
  now?: () => number;
  /** Called when pressure ends, so paused readers can resume. */
  onRelief?: () => void;
}

/** MemoryGovernor keeps the process's RSS under a bound by collecting garbage early and reporting pressure. */
export class MemoryGovernor {
  private pressure = false;
  private lastGcMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly rss: () => number;
  private readonly gc: () => void;
  private readonly now: () => number;
  /** forcedCollections counts full collections the governor asked for since start. */
  forcedCollections = 0;

  constructor(private readonly o: MemoryGovernorOptions) {
    this.rss = o.rss ?? (() => process.memoryUsage.rss());
    this.gc = o.gc ?? exposeGc();
    this.now = o.now ?? Date.now;
  }

  /** underPressure is true while RSS stays high even after a full collection. */
  get underPressure(): boolean {
    return this.pressure;
  }

  /** sample looks at RSS once, collects garbage when it is high, and updates the pressure state. */
  sample(): void {
    let rss = this.rss();
    const soft = SOFT_FRACTION * this.o.maxRssBytes;
    if (rss > soft && this.now() - this.lastGcMs >= MIN_GC_GAP_MS) {
      this.gc();
      this.forcedCollections++;
      this.lastGcMs = this.now();
      rss = this.rss();
    }
    const was = this.pressure;
    if (rss >= PRESSURE_FRACTION * this.o.maxRssBytes) this.pressure = true;
    else if (rss < soft) this.pressure = false;
    if (was && !this.pressure) this.o.onRelief?.();
  }

  /** start samples every `intervalMs` (unref'd: the governor never keeps the process alive). */
  start(intervalMs = 100): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** stop ends the sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
