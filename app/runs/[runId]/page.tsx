import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { cache } from "react";
import { DeferredAdvice } from "@/components/DeferredAdvice";
import { AlertBanner } from "@/components/AlertBanner";
import { AlertRulesEditor } from "@/components/AlertRulesEditor";
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
import { StepControls } from "@/components/StepControls";
import { StepMetricsPanel } from "@/components/StepMetricsPanel";
import type { LossName } from "@/lib/analysis/types";
import { getAlertRules, listAlerts } from "@/lib/server/alertQueries";
import { getEpLoad, getExpertHeatmap, getImbalanceHeatmap, getLayerHeatmap, getLossSeries, getRun, getScalarSeries, getStepMetrics } from "@/lib/server/queries";
import { ScalarSeriesPanel } from "@/components/ScalarSeriesPanel";
import { compactImbalance, compactScalars, lossSeriesFor } from "@/lib/ui/compactPayload";
import { formatRelativeTime } from "@/lib/ui/formatRelativeTime";
import { pickAuxLoss } from "@/lib/ui/pickAuxLoss";
import { DEFAULT_CAPACITY_FACTOR, parseCapacityFactor } from "@/lib/ui/prepareCapacityTable";
import { parseImbalanceMetric } from "@/lib/ui/prepareImbalanceHeatmap";

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

  const [losses, layerHeatmap, expertHeatmap, imbalance, stepMetrics, firing, rules, scalars] = await Promise.all([
    getLossSeries(runId, { ...range, maxPoints: lossPointsFor(run.moeLayers.length) }),
    getLayerHeatmap(runId, step ?? undefined),
    layer != null ? getExpertHeatmap(runId, layer, { ...range, maxColumns: MAX_HEATMAP_COLUMNS }) : Promise.resolve(null),
    getImbalanceHeatmap(runId, metric, { ...range, maxColumns: MAX_HEATMAP_COLUMNS }),
    getStepMetrics(runId, step ?? undefined),
    listAlerts({ runId, status: "firing" }),
    getAlertRules(runId),
    getScalarSeries(runId, { maxPoints: MAX_LOSS_POINTS }),
  ]);
  // Every per-step panel shows the same step: the pinned one, else the newest aggregated step.
  const panelStep = step ?? stepMetrics?.step ?? null;
  const epLoad = layer != null && panelStep != null ? await getEpLoad(runId, panelStep, layer) : null;

  const available = [...new Set((losses?.series ?? []).map((s) => s.loss))] as LossName[];
  const auxLoss = pickAuxLoss(run.config.moe_router_load_balancing_type, available);
  const chartEvents = run.events.filter((e) => (from == null || e.step >= from) && (to == null || e.step <= to));
  const overriddenHere = Object.values(rules.overrides).filter((o) => o && Object.keys(o).length > 0).length;
  const maxAux = run.config.num_experts / Math.max(1, run.config.moe_router_topk);
  const now = Date.now();
  // A run imported from a log or TensorBoard file has series but no expert counts: its series come first.
  const importedOnly = (scalars?.series.length ?? 0) > 0 && (layerHeatmap?.rows.length ?? 0) === 0;

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
            <RunLive runId={run.id} initialLastStep={run.lastStep} initialStatus={run.status} />
          </span>
        </div>
        <dl className="flex flex-wrap gap-x-6 gap-y-1 text-xs">
          <Stat label="last step" value={run.lastStep ?? "–"} testId="run-last-step" />
          <Stat label="ranks reporting" value={`${run.ranksReporting}/${run.ranksKnown} of ${run.worldSize}`} />
          <Stat label="experts · top-k" value={`${run.config.num_experts} · ${run.config.moe_router_topk}`} />
          <Stat label="layers" value={`${run.numLayers} (${run.moeLayers.length} MoE)`} />
          <Stat label="framework" value={`${run.framework} ${run.frameworkVersion}`.trim()} />
          <Stat label="last seen" value={formatRelativeTime(run.lastSeenAt, now)} />
          <span className="flex gap-2" data-testid="run-export">
            <span className="text-muted">export</span>
            <a className="underline" href={`/api/runs/${run.id}/export?format=csv`}>CSV</a>
            <a className="underline" href={`/api/runs/${run.id}/export?format=json`}>JSON</a>
            <a className="underline" href={`/api/runs/${run.id}/export?format=csv&raw=1`}>per-rank counts</a>
          </span>
        </dl>
      </header>

      <AlertBanner runId={run.id} initial={firing} simulated={run.simulated} serverNow={now} />

      {importedOnly && <ScalarSeriesPanel dto={compactScalars(scalars)} />}

      <LayerStrip layers={run.layers} selectedLayer={layer} />

      <div className="rounded-lg border border-line bg-surface px-4 py-3">
        <StepControls key={`${step}-${from}-${to}`} step={step} from={from} to={to} lastStep={run.lastStep} />
      </div>

      {/* The advice reads the run's history (seconds on a long run): it is fetched after the page has painted. */}
      <DeferredAdvice runId={run.id} step={step} lastStep={run.lastStep} firing={firing} />

      {imbalance && <ImbalancePanel dto={compactImbalance(imbalance)!} selectedLayer={layer} selectedStep={panelStep} />}

      <div className="grid gap-4 xl:grid-cols-2">
        <EpLoadBars dto={epLoad} layer={layer} />
        <StepMetricsPanel dto={stepMetrics} selectedLayer={layer} />
      </div>

      <CapacityWhatIf runId={run.id} step={panelStep} initialCf={cf} />

      <div className="grid gap-4 xl:grid-cols-2">
        <LossChart
          title="Load-balancing (aux) loss per layer"
          note={`1.0 = perfectly balanced; at most E/k = ${maxAux}. As logged by Megatron (averaged over data-parallel replicas and micro-batches).${
            run.config.moe_layer_recompute ? " Old Megatron builds with --moe-layer-recompute log this doubled (~2.2)." : ""
          }`}
          testId="aux-loss-chart"
          series={lossSeriesFor(losses, auxLoss)}
          events={chartEvents}
          loss={auxLoss}
          selectedLayer={layer}
        />
        <LossChart
          title="Router z-loss per layer"
          note="Megatron logs z_loss divided by moe_z_loss_coeff (mean of logsumexp² of the router logits; around 10 in real runs)."
          testId="z-loss-chart"
          series={lossSeriesFor(losses, "z_loss")}
          events={chartEvents}
          loss="z_loss"
          selectedLayer={layer}
        />
      </div>

      {!importedOnly && <ScalarSeriesPanel dto={compactScalars(scalars)} />}

      <LayerExpertHeatmap dto={layerHeatmap} selectedLayer={layer} pinnedStep={step != null} />
      <ExpertStepHeatmap dto={expertHeatmap} selectedStep={step ?? layerHeatmap?.step ?? null} />

      <div className="grid gap-4 xl:grid-cols-2">
        <EventsList events={run.events} runId={run.id} />
        <ConfigPanel run={run} />
      </div>

      <details className="rounded-lg border border-line bg-surface p-4" data-testid="run-alert-rules">
        <summary className="cursor-pointer text-sm font-semibold">
          Alert rules for this run{" "}
          <span className="font-normal text-muted">
            ({overriddenHere} rule{overriddenHere === 1 ? "" : "s"} overridden here)
          </span>
        </summary>
        <div className="mt-3">
          <AlertRulesEditor runId={run.id} initial={rules} />
        </div>
      </details>
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: string | number; testId?: string }) {
  return (
    <div className="flex items-baseline gap-1.5">
      <dt className="text-muted">{label}</dt>
      <dd className="font-mono font-medium" data-testid={testId}>
        {value}
      </dd>
    </div>
  );
}
