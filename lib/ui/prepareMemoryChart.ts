import type { OomPostMortemDto } from "../dto";

const GiB = 1024 ** 3;

/** MemoryRow: one step in GiB: the dying rank's peak, allocated and reserved, and the peak range of the rest of its group. */
export interface MemoryRow {
  step: number;
  peak: number | null;
  allocated: number | null;
  reserved: number | null;
  /** [min, max] peak of the group's other ranks; null where none reported. */
  group: [number, number] | null;
  /** The point is the OOM event's own sample. */
  oom: boolean;
}

/** MemoryChartModel: rows, the GPU memory line and a y domain that contains both, all in GiB. */
export interface MemoryChartModel {
  rows: MemoryRow[];
  gpuGiB: number | null;
  yMax: number;
  samples: number;
  groupRanks: number;
}

/** prepareMemoryChart converts the post-mortem's memory samples to GiB rows by step, with the group's peak range and the GPU size. */
export function prepareMemoryChart(dto: Pick<OomPostMortemDto, "memory" | "groupMemory" | "gpuMemoryBytes" | "event">): MemoryChartModel {
  const rows = new Map<number, MemoryRow>();
  const row = (step: number) => {
    let r = rows.get(step);
    if (!r) rows.set(step, (r = { step, peak: null, allocated: null, reserved: null, group: null, oom: false }));
    return r;
  };
  let top = 0;
  for (const m of dto.memory) {
    const r = row(m.step);
    r.peak = m.peakAllocatedBytes / GiB;
    r.allocated = m.allocatedBytes / GiB;
    r.reserved = m.reservedBytes / GiB;
    r.oom = m.source === "oom-event";
    top = Math.max(top, r.peak, r.reserved);
  }
  const others = dto.groupMemory.filter((g) => g.rank !== dto.event.rank);
  for (const g of others) {
    for (const p of g.points) {
      const v = p.peakAllocatedBytes / GiB;
      const r = row(p.step);
      r.group = r.group ? [Math.min(r.group[0], v), Math.max(r.group[1], v)] : [v, v];
      top = Math.max(top, v);
    }
  }
  const gpuGiB = dto.gpuMemoryBytes > 0 ? dto.gpuMemoryBytes / GiB : null;
  return {
    rows: [...rows.values()].sort((a, b) => a.step - b.step),
    gpuGiB,
    yMax: Math.ceil(Math.max(top, gpuGiB ?? 0) * 1.05),
    samples: dto.memory.length,
    groupRanks: others.length,
  };
}
