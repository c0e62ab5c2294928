import { describe, expect, it } from "vitest";
import { formatAlertGroup, groupAlerts, type GroupableAlert } from "./groupAlerts";

let n = 0;
function alert(o: Partial<GroupableAlert>): GroupableAlert {
  return {
    id: `a${++n}`, runId: "r1", runName: "run one", ruleId: "ep-imbalance-high", severity: "critical", layer: 0, rank: null,
    threshold: 2, value: 2.1, step: 20, lastValue: null, lastStep: null, ...o,
  };
}

describe("groupAlerts", () => {
  it("gives one group per (run, rule) for 29 layers x 2 rules, naming the worst layer and the first step", () => {
    const alerts: GroupableAlert[] = [];
    for (let layer = 0; layer < 29; layer++) {
      alerts.push(alert({ layer, value: 2.1, lastValue: layer === 5 ? 2.38 : 2.05 + layer / 1000, step: layer === 7 ? 11 : 14 + layer }));
      alerts.push(alert({ ruleId: "maxvio-high", severity: "warning", layer, threshold: 1, value: 1.2, lastValue: 1.1 + layer / 100, step: 30 }));
    }
    const groups = groupAlerts(alerts, () => ({ layers: 32, ranks: 64 }));
    expect(groups.map((g) => [g.ruleId, g.members.length, g.of])).toEqual([
      ["ep-imbalance-high", 29, 32],
      ["maxvio-high", 29, 32],
    ]);
    expect(groups[0].worst.layer).toBe(5);
    expect(groups[0].sinceStep).toBe(11);
    expect(groups[0].members.map((m) => m.layer)).toEqual([...Array(29).keys()]);
    expect(formatAlertGroup(groups[0])).toBe("ep-imbalance-high on 29 of 32 layers, worst layer 5 at 2.38x (threshold 2.00x), since step 11");
    expect(formatAlertGroup(groups[1])).toBe("maxvio-high on 29 of 32 layers, worst layer 28 at 1.38 (threshold 1.00), since step 30");
  });

  const cases: Array<{ name: string; alerts: GroupableAlert[]; sizes?: boolean; keys: string[]; lines: string[] }> = [
    {
      name: "separates runs and puts critical groups first",
      alerts: [alert({ runId: "r2", ruleId: "maxvio-high", severity: "warning", threshold: 1, value: 1.5 }), alert({ runId: "r1", layer: 3 }), alert({ runId: "r2", layer: 1, value: 2.5 })],
      keys: ["r1|ep-imbalance-high", "r2|ep-imbalance-high", "r2|maxvio-high"],
      lines: ["ep-imbalance-high on layer 3 at 2.10x (threshold 2.00x), since step 20", "ep-imbalance-high on layer 1 at 2.50x (threshold 2.00x), since step 20", "maxvio-high on layer 0 at 1.50 (threshold 1.00), since step 20"],
    },
    {
      name: "rank-scoped rules count against the world size and name the worst rank",
      alerts: [
        alert({ ruleId: "memory-headroom-low", layer: null, rank: 3, threshold: 0.92, value: 0.95 }),
        alert({ ruleId: "memory-headroom-low", layer: null, rank: 9, threshold: 0.92, value: 0.97 }),
      ],
      sizes: true,
      keys: ["r1|memory-headroom-low"],
      lines: ["memory-headroom-low on 2 of 64 ranks, worst rank 9 at 97% (threshold 92%), since step 20"],
    },
    {
      name: "without sizes it counts members only",
      alerts: [alert({ layer: 1 }), alert({ layer: 2, lastValue: 3 })],
      keys: ["r1|ep-imbalance-high"],
      lines: ["ep-imbalance-high on 2 layers, worst layer 2 at 3.00x (threshold 2.00x), since step 20"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = groupAlerts(c.alerts, c.sizes ? () => ({ layers: 32, ranks: 64 }) : undefined);
      expect(g.map((x) => x.key)).toEqual(c.keys);
      expect(g.map(formatAlertGroup)).toEqual(c.lines);
    });
  }
});
