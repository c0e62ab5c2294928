import type { RunStatus } from "@/lib/dto";

const STATUS_STYLE: Record<RunStatus, string> = {
  running: "bg-ok-bg text-ok",
  stale: "bg-warn-bg text-warn",
  finished: "bg-info-bg text-info",
  crashed: "bg-danger-bg text-danger",
  oom: "bg-danger-bg text-danger",
};

const STATUS_LABEL: Record<RunStatus, string> = {
  running: "running",
  stale: "stale",
  finished: "finished",
  crashed: "crashed",
  oom: "OOM",
};

/** StatusBadge shows a run's status; running pulses so a live run is visible at a glance. */
export function StatusBadge({ status }: { status: RunStatus }) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status]}`}
      data-testid="status-badge"
      data-status={status}
    >
      <span aria-hidden className={`h-1.5 w-1.5 rounded-full bg-current ${status === "running" ? "animate-pulse" : ""}`} />
      {STATUS_LABEL[status]}
    </span>
  );
}

/** SimulatedBadge marks runs produced by the simulator, so nobody mistakes them for real training. */
export function SimulatedBadge() {
  return (
    <span
      className="inline-flex items-center rounded border border-sim/40 bg-sim-bg px-1.5 py-0.5 text-[10px] font-bold tracking-wider text-sim"
      data-testid="simulated-badge"
      title="Data from the built-in simulator, not a real training run"
    >
      SIMULATED
    </span>
  );
}
