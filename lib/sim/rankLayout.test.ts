import { describe, expect, it } from "vitest";
import { rankCoords, stageLayers, type MeshSizes } from "./rankLayout";

describe("rankCoords", () => {
  it.each<{ name: string; mesh: MeshSizes }>([
    { name: "Mixtral 8x7B reference (EP8 PP4)", mesh: { world: 64, tp: 1, cp: 1, pp: 4, ep: 8, etp: 1 } },
    { name: "TP2 CP2 with ETP1 EP4 (folding)", mesh: { world: 64, tp: 2, cp: 2, pp: 2, ep: 4, etp: 1 } },
    { name: "TP4 EP2 PP8 (8x22B reference, ETP = TP)", mesh: { world: 128, tp: 4, cp: 1, pp: 8, ep: 2, etp: 4 } },
    { name: "ETP2 EP4 replacing EP8", mesh: { world: 64, tp: 1, cp: 1, pp: 4, ep: 4, etp: 2 } },
  ])("is a bijection onto both meshes: $name", ({ mesh }) => {
    const dp = mesh.world / (mesh.tp * mesh.cp * mesh.pp);
    const edp = mesh.world / (mesh.etp * mesh.ep * mesh.pp);
    const attn = new Set<string>();
    const expert = new Set<string>();
    for (let r = 0; r < mesh.world; r++) {
      const c = rankCoords(r, mesh);
      expect(c.tp).toBeLessThan(mesh.tp);
      expect(c.cp).toBeLessThan(mesh.cp);
      expect(c.dp).toBeLessThan(dp);
      expect(c.pp).toBeLessThan(mesh.pp);
      expect(c.etp).toBeLessThan(mesh.etp);
      expect(c.ep).toBeLessThan(mesh.ep);
      expect(c.edp).toBeLessThan(edp);
      // Megatron's generator order "tp-cp-ep-dp-pp", first fastest, in both meshes.
      expect(c.tp + mesh.tp * (c.cp + mesh.cp * (c.dp + dp * c.pp))).toBe(r);
      expect(c.etp + mesh.etp * (c.ep + mesh.ep * (c.edp + edp * c.pp))).toBe(r);
      attn.add(`${c.tp},${c.cp},${c.dp},${c.pp}`);
      expert.add(`${c.etp},${c.ep},${c.edp},${c.pp}`);
    }
    expect(attn.size).toBe(mesh.world);
    expect(expert.size).toBe(mesh.world);
  });

  it("matches Megatron's groups for a small case: TP2 PP2 EP2 on 8 GPUs", () => {
    // parallel_state with world 8, tp 2, pp 2 (dp 2), ep 2, etp 2 (edp 1):
    // tp groups [0,1],[2,3],...; pp groups [0,4],[1,5],...; dp groups [0,2],[1,3],[4,6],[5,7];
    // expert ep groups [0,2],[1,3],[4,6],[5,7].
    const mesh = { world: 8, tp: 2, cp: 1, pp: 2, ep: 2, etp: 2 };
    const c = (r: number) => rankCoords(r, mesh);
    expect([c(0).tp, c(1).tp]).toEqual([0, 1]);
    expect([c(0).pp, c(4).pp]).toEqual([0, 1]);
    expect([c(0).dp, c(2).dp, c(4).dp, c(6).dp]).toEqual([0, 1, 0, 1]);
    expect([c(0).ep, c(2).ep, c(5).ep, c(7).ep]).toEqual([0, 1, 0, 1]);
    expect(c(7).edp).toBe(0);
  });
});

describe("stageLayers", () => {
  it.each([
    { name: "no VPP", pp: 1, L: 32, PP: 4, vpp: undefined, want: [9, 10, 11, 12, 13, 14, 15, 16] },
    { name: "VPP 2", pp: 1, L: 32, PP: 4, vpp: 2, want: [5, 6, 7, 8, 21, 22, 23, 24] },
    { name: "VPP 8 (Mixtral reference, 1 layer per chunk)", pp: 3, L: 32, PP: 4, vpp: 8, want: [4, 8, 12, 16, 20, 24, 28, 32] },
  ])("$name", ({ pp, L, PP, vpp, want }) => {
    expect(stageLayers(pp, L, PP, vpp)).toEqual(want);
  });
});
