import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache, Suspense, type ReactNode } from "react";
import { DeferredAdvice } from "@/components/DeferredAdvice";
import { AlertBanner } from "@/components/AlertBanner";
import { AlertRulesEditorLazy as AlertRulesEditor } from "@/components/AlertRulesEditorLazy";
import { SimulatedBadge, StatusBadge } from "@/components/Badges";
import { CapacityWhatIf } from "@/components/CapacityWhatIf";
import { ConfigPanel } from "@/components/ConfigPanel";
import { EpLoadBars } from "@/components/EpLoadBars";
import { EventsList } from "@/components/EventsList";
import { ExpertStepHeatmap } from "@/components/ExpertStepHeatmap";
import { ImbalancePanel } from "@/components/ImbalancePanel";
import { LayerExpertHeatmap } from "@/components/LayerExpertHeatmap";
import { LayerStrip } from "@/components/LayerStrip";
import { LossChart } from "@/components/LossChart";
import { RunLive } from "@/components/RunLive";
import { RunSectionNav } from "@/components/RunSectionNav";
import { StepControls } from "@/components/StepControls";
import { StepMetricsPanel } from "@/components/StepMetricsPanel";
import type { LossName } from "@/lib/analysis/types";
import type { LossSeriesDto, RunDetailDto, RunEventDto } from "@/lib/dto";
import { getAlertRules, listAlerts } from "@/lib/web/data/alertQueries";
import { getEpLoad, getExpertHeatmap, getImbalanceHeatmap, getLayerHeatmap, getLiveState, getLossSeries, getRun, getScalarSeries, getStepMetrics } from "@/lib/web/data/queries";
import { ScalarSeriesPanelLazy as ScalarSeriesPanel } from "@/components/ScalarSeriesPanelLazy";
import { compactImbalance, compactScalars, lossSeriesFor } from "@/lib/ui/compactPayload";
import { formatRelativeTime } from "@/lib/ui/formatRelativeTime";
import { configuredAuxLoss, pickAuxLoss } from "@/lib/ui/pickAuxLoss";
import { DEFAULT_CAPACITY_FACTOR, parseCapacityFactor } from "@/lib/ui/prepareCapacityTable";
import { parseImbalanceMetric } from "@/lib/ui/prepareImbalanceHeatmap";
import { prepareLossChart } from "@/lib/ui/prepareLossChart";
import { moeLayoutUnknown } from "@/lib/analysis/moeLayoutUnknown";
import { prepareAlertGroups } from "@/lib/ui/prepareAlerts";

export const dynamic = "force-dynamic";

/** Loss points per layer the server downsamples to (min/max kept per bucket): 200 per line for up to 32
 * layers; fewer with more layers (64 lines of 200 points are unreadable and double the page), never under 100. */
const MAX_LOSS_POINTS = 200;
const lossPointsFor = (layers: number) => Math.max(100, Math.min(MAX_LOSS_POINTS, Math.floor(6400 / Math.max(1, layers))));
/** Step columns of the experts x steps heatmap and of the layers x steps imbalance heatmap. */
const MAX_HEATMAP_COLUMNS = 240;

type SearchParams = Record<string, string | string[] | undefined>;

interface RunPageProps {
  params: Promise<{ runId: string }>;
  searchParams: Promise<SearchParams>;
}

const loadRun = cache((runId: string) => getRun(runId));

/** intParam reads a non-negative integer search param; anything else counts as absent. */
function intParam(sp: SearchParams, name: string): number | null {
  const raw = Array.isArray(sp[name]) ? sp[name][0] : sp[name];
  if (raw == null || raw === "" || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

export async function generateMetadata({ params }: RunPageProps): Promise<Metadata> {
  const { runId } = await params;
  const run = await loadRun(decodeURIComponent(runId));
  return { title: run ? run.name : "Unknown run" };
}

/** RunPage: one run's header, configuration, layer strip, loss charts, heatmaps and events; state lives in the URL. */
export default async function RunPage({ params, searchParams }: RunPageProps) {
  // Let the layout and the loading skeleton go out first, so the browser fetches the scripts meanwhile.
  await nextTick();
  const { runId: rawId } = await params;
  const runId = decodeURIComponent(rawId);
  const sp = await searchParams;
  const run = await loadRun(runId);
  if (!run) notFound();

  const requestedLayer = intParam(sp, "layer");
  const layer = requestedLayer != null && run.moeLayers.includes(requestedLayer) ? requestedLayer : (run.moeLayers[0] ?? null);
  const step = intParam(sp, "step");
  let from = intParam(sp, "from");
  let to = intParam(sp, "to");
  if (from != null && to != null && from > to) [from, to] = [to, from];
  const range = { fromStep: from ?? undefined, toStep: to ?? undefined };

  const metric = parseImbalanceMetric(sp.metric);
  const cf = parseCapacityFactor(sp.cf, run.config.moe_expert_capacity_factor ?? DEFAULT_CAPACITY_FACTOR);

  // The page's shell (everything outside a Suspense boundary) holds the header, the per-step panels and the
  // first paint's three panels: the imbalance heatmap, the loss charts and the experts x steps heatmap. They
  // are not streamed after the shell because React 19.2 reveals streamed Suspense boundaries in batches at
  // least 300 ms apart, the shell being the first: panels streamed behind it showed 300-900 ms after their
  // HTML had arrived (traced on the 100k-step page). The loading skeleton shows while they are read (once per
  // change of the data: whole-run reads are cached while the database is unchanged). The panels below them
  // stream, read one after another in paint order while the browser draws the shell.
  // The live version is read before the data, so a change made while the page is read refreshes it once.
  const liveState = await getLiveState(runId);
  const [stepMetrics, layerHeatmap, firing] = await Promise.all([
    getStepMetrics(runId, step ?? undefined),
    getLayerHeatmap(runId, step ?? undefined),
    listAlerts({ runId, status: "firing" }),
  ]);
  // One snapshot per page: every per-step panel, the header, the banner and the advice show the same step
  // (the pinned one, else the newest aggregated step) and the alert list read with it.
  const panelStep = step ?? stepMetrics?.step ?? null;
  const expertHeatmap = layer != null ? await getExpertHeatmap(runId, layer, { ...range, maxColumns: MAX_HEATMAP_COLUMNS }) : null;
  const imbalance = await getImbalanceHeatmap(runId, metric, { ...range, maxColumns: MAX_HEATMAP_COLUMNS });
  const losses = await readChartLosses(run, { ...range, maxPoints: lossPointsFor(run.moeLayers.length) });
  const scalars = streamed(after(Promise.resolve(), () => getScalarSeries(runId, { maxPoints: MAX_LOSS_POINTS })));
  const epLoad = streamed(after(scalars, () => (layer != null && panelStep != null ? getEpLoad(runId, panelStep, layer) : Promise.resolve(null))));
  const rules = streamed(after(epLoad, () => getAlertRules(runId)));

  const chartEvents = run.events.filter((e) => (from == null || e.step >= from) && (to == null || e.step <= to));
  const now = Date.now();
  const firingGroups = prepareAlertGroups(firing, now, () => ({ layers: run.moeLayers.length, ranks: run.worldSize }));
  // A run imported from a log or TensorBoard file has series but no expert counts: its series come first.
  const noCounts = (layerHeatmap?.rows.length ?? 0) === 0;
  const layoutUnknown = moeLayoutUnknown(run.config);

  return (
    <div className="space-y-4" data-testid="run-page" data-run-id={run.id}>
      <header className="space-y-2">
        <nav className="text-xs text-muted">
          <Link href="/" prefetch={false} className="hover:text-fg">
            Runs
          </Link>{" "}
          / <span className="font-mono">{run.runKey}</span>
        </nav>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-xl font-semibold" data-testid="run-name">
            {run.name}
          </h1>
          {run.simulated && <SimulatedBadge />}
          <StatusBadge status={run.status} />
          <span className="ml-auto">
            <RunLive
              runId={run.id}
              initialLastStep={run.lastStep}
              initialStatus={run.status}
              initialVersion={liveState?.version ?? null}
              snapshotStep={panelStep}
              pinned={step != null}
              initialAlertsFiring={firing.length}
            />
          </span>
        </div>
        <dl className="flex flex-wrap gap-x-6 gap-y-1 text-xs">
          <Stat
            label={step != null ? "pinned step" : "step shown"}
            value={panelStep ?? "–"}
            testId="snapshot-step"
            title={`Every panel on this page shows step ${panelStep ?? "–"}${step != null ? " (pinned in the URL)" : " (the newest step every rank has reported)"}; ranks have reported up to step ${run.lastStep ?? "–"}.`}
          />
          <Stat label="ranks reporting" value={`${run.ranksReporting}/${run.ranksKnown} of ${run.worldSize}`} />
          <Stat label="experts · top-k" value={layoutUnknown ? "unknown" : `${run.config.num_experts} · ${run.config.moe_router_topk}`} />
          <Stat label="layers" value={layoutUnknown ? "unknown" : `${run.numLayers} (${run.moeLayers.length} MoE)`} />
          <Stat label="framework" value={`${run.framework} ${run.frameworkVersion}`.trim()} />
          <Stat label="last seen" value={formatRelativeTime(run.lastSeenAt, now)} />
          <span className="flex gap-2" data-testid="run-export">
            <span className="text-muted">export</span>
            <a className="underline" href={`/api/runs/${run.id}/export?format=csv`}>CSV</a>
            <a className="underline" href={`/api/runs/${run.id}/export?format=json`}>JSON</a>
            <a className="underline" href={`/api/runs/${run.id}/export?format=csv&raw=1`}>per-rank counts</a>
            <a className="underline" href={`/api/runs/${run.id}/export?format=csv&series=1`}>named series</a>
          </span>
        </dl>
      </header>

      <RunSectionNav step={panelStep} pinned={step != null} />

      <section id="overview" aria-label="Overview" className="scroll-mt-36 space-y-4">
      <AlertBanner groups={firingGroups} alerts={firing} simulated={run.simulated} step={panelStep} />

      {noCounts && (
        <Suspense fallback={null}>
          <Await promise={scalars}>{(sc) => ((sc?.series.length ?? 0) > 0 ? <ScalarSeriesPanel dto={compactScalars(sc)} /> : null)}</Await>
        </Suspense>
      )}

      {layoutUnknown ? (
        <section className="rounded-lg border border-line bg-surface p-4 text-sm" data-testid="layout-unknown">
          <h2 className="font-semibold">MoE layout unknown</h2>
          <p className="mt-1 text-muted">
            This run was imported from a log without Megatron&apos;s printed arguments, so its layers, experts and top-k are
            not known: the run-level series above are what the log holds, and the per-layer and per-expert views below stay
            empty. Import the log again with <code>--config</code> (the launch script) or <code>--layers</code>,{" "}
            <code>--experts</code> and <code>--topk</code> to add the layout.
          </p>
        </section>
      ) : (
        <LayerStrip layers={run.layers} selectedLayer={layer} />
      )}

      <div className="rounded-lg border border-line bg-surface px-4 py-3">
        <StepControls key={`${step}-${from}-${to}`} step={step} from={from} to={to} lastStep={panelStep} />
      </div>

      {/* The advice reads the run's history (seconds on a long run): it is fetched after the page has painted. */}
      <DeferredAdvice runId={run.id} step={panelStep} firing={firingGroups} />
      </section>

      <section id="load" aria-label="Load" className="scroll-mt-36 space-y-4">
      {imbalance && <ImbalancePanel dto={compactImbalance(imbalance)!} selectedLayer={layer} selectedStep={panelStep} />}

      <div className="grid gap-4 xl:grid-cols-2">
        <Suspense fallback={<Placeholder height="h-64" label="EP load" />}>
          <Await promise={epLoad}>{(ep) => <EpLoadBars dto={ep} layer={layer} />}</Await>
        </Suspense>
        <StepMetricsPanel dto={stepMetrics} selectedLayer={layer} />
      </div>

      </section>

      <section id="capacity" aria-label="Capacity" className="scroll-mt-36">
      <CapacityWhatIf runId={run.id} step={panelStep} initialCf={cf} />
      </section>

      <section id="losses" aria-label="Losses" className="scroll-mt-36 space-y-4">
      <LossCharts run={run} losses={losses} events={chartEvents} layer={layer} />

      <Suspense fallback={null}>
        <Await promise={scalars}>{(sc) => (noCounts || (sc?.series.length ?? 0) === 0 ? null : <ScalarSeriesPanel dto={compactScalars(sc)} />)}</Await>
      </Suspense>

      </section>

      <section id="heatmaps" aria-label="Heatmaps" className="scroll-mt-36 space-y-4">
      <LayerExpertHeatmap dto={layerHeatmap} selectedLayer={layer} pinnedStep={step != null} />
      <ExpertStepHeatmap dto={expertHeatmap} selectedStep={step ?? layerHeatmap?.step ?? null} />
      </section>

      <section id="configuration" aria-label="Configuration" className="scroll-mt-36 space-y-4">
      <div className="grid gap-4 xl:grid-cols-2">
        <EventsList events={run.events} runId={run.id} />
        <ConfigPanel run={run} />
      </div>

      <Suspense fallback={<Placeholder height="h-12" label="alert rules" />}>
        <Await promise={rules}>{(r) => <RunAlertRules runId={run.id} rules={r} />}</Await>
      </Suspense>
      </section>
    </div>
  );
}

/** streamed marks a read the page hands to a Suspense boundary as handled, so a failure reaches the
 * boundary's error page (when the boundary awaits it) and is never an unhandled rejection meanwhile. */
function streamed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/**
 * nextTick gives the event loop a few turns. The SQLite driver answers synchronously, so a chain of reads
 * settles in one unbroken run of microtasks and nothing rendered so far reaches the socket until the whole
 * chain is done (measured: without a yield the page arrived in one piece after every read). Between reads
 * the rendered HTML still passes several asynchronous stages (React's scheduled work, the response's
 * compression stream, the socket), so the yield is a short timer rather than a single turn. YIELD_MS is
 * small against one read of a long run (hundreds of ms).
 */
const YIELD_MS = 8;
function nextTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, YIELD_MS));
}

/** after starts `next` once `prev` has settled (either way) and the finished panels have been flushed:
 * reads run one after another, in paint order. */
function after<T>(prev: Promise<unknown>, next: () => Promise<T>): Promise<T> {
  return prev.then(nextTick, nextTick).then(next);
}

/** Await renders `children` with a promise's value; inside a Suspense boundary it streams in when ready. */
async function Await<T>({ promise, children }: { promise: Promise<T>; children: (value: T) => ReactNode }) {
  return children(await promise);
}

/** Placeholder holds a streamed panel's place (roughly its height) until its data arrives. */
function Placeholder({ height, label }: { height: string; label: string }) {
  return <div className={`${height} animate-pulse rounded-lg bg-surface-2`} aria-busy="true" aria-label={`Loading ${label}`} />;
}

/**
 * readChartLosses reads the two losses the charts draw: the run's configured load-balancing loss and the
 * z-loss (each loss is four aggregate columns of every rollup row read: 100k x 64 layers, 64-84 ms instead
 * of 131-252 ms for all four). Every loss is read when the configured one has no data, so pickAuxLoss can
 * fall back to one that has.
 */
async function readChartLosses(run: RunDetailDto, opts: { fromStep?: number; toStep?: number; maxPoints: number }): Promise<LossSeriesDto | null> {
  const aux = configuredAuxLoss(run.config.moe_router_load_balancing_type);
  if (aux) {
    const two = await getLossSeries(run.id, { ...opts, losses: [aux, "z_loss"] });
    if (!two || two.series.some((s) => s.loss === aux)) return two;
  }
  return getLossSeries(run.id, opts);
}

const NO_LOSSES: LossSeriesDto = { runId: "", fromStep: null, toStep: null, bucketSize: 1, series: [] };

/** LossCharts: the load-balancing and z-loss charts, one line per MoE layer, prepared here so only their columns reach the browser. */
function LossCharts({ run, losses, events, layer }: { run: RunDetailDto; losses: LossSeriesDto | null; events: RunEventDto[]; layer: number | null }) {
  const available = [...new Set((losses?.series ?? []).map((s) => s.loss))] as LossName[];
  const auxLoss = pickAuxLoss(run.config.moe_router_load_balancing_type, available);
  const maxAux = run.config.num_experts / Math.max(1, run.config.moe_router_topk);
  const model = (loss: LossName) => prepareLossChart(lossSeriesFor(losses, loss) ?? NO_LOSSES, events, { loss, highlightLayer: layer });
  return (
    <div className="grid gap-4 xl:grid-cols-2">
      <LossChart
        title="Load-balancing (aux) loss per layer"
        note={`1.0 = perfectly balanced; at most E/k = ${maxAux}. As logged by Megatron (averaged over data-parallel replicas and micro-batches).${
          run.config.moe_layer_recompute ? " Old Megatron builds with --moe-layer-recompute log this doubled (~2.2)." : ""
        }`}
        testId="aux-loss-chart"
        model={model(auxLoss)}
      />
      <LossChart
        title="Router z-loss per layer"
        note="Megatron logs z_loss divided by moe_z_loss_coeff (mean of logsumexp² of the router logits; around 10 in real runs)."
        testId="z-loss-chart"
        model={model("z_loss")}
      />
    </div>
  );
}

/** RunAlertRules: this run's alert rules behind a disclosure (read last: nothing is drawn until it is opened). */
function RunAlertRules({ runId, rules }: { runId: string; rules: Awaited<ReturnType<typeof getAlertRules>> }) {
  const overriddenHere = Object.values(rules.overrides).filter((o) => o && Object.keys(o).length > 0).length;
  return (
    <details className="rounded-lg border border-line bg-surface p-4" data-testid="run-alert-rules">
      <summary className="cursor-pointer text-sm font-semibold">
        Alert rules for this run{" "}
        <span className="font-normal text-muted">
          ({overriddenHere} rule{overriddenHere === 1 ? "" : "s"} overridden here)
        </span>
      </summary>
      <div className="mt-3">
        <AlertRulesEditor runId={runId} initial={rules} />
      </div>
    </details>
  );
}

function Stat({ label, value, testId, title }: { label: string; value: string | number; testId?: string; title?: string }) {
  return (
    <div className="flex items-baseline gap-1.5" title={title}>
      <dt className="text-muted">{label}</dt>
      <dd className="font-mono font-medium" data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}
