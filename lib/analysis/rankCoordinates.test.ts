import { describe, expect, it } from "vitest";
import { rankCoordinates, type MeshSizeSet } from "./rankCoordinates";

const mixtral8x7b: MeshSizeSet = { tp: 1, cp: 1, dp: 16, pp: 4, ep: 8, etp: 1, edp: 2 };
const mixtral8x22b: MeshSizeSet = { tp: 4, cp: 1, dp: 4, pp: 8, ep: 2, etp: 4, edp: 2 };
const folded: MeshSizeSet = { tp: 2, cp: 2, dp: 2, pp: 2, ep: 4, etp: 1, edp: 2 };

describe("rankCoordinates", () => {
  const cases = [
    // 37 = 0 + 1*(0 + 1*(5 + 16*2)); expert: 37 = 0 + 1*(5 + 8*(0 + 2*2))
    { name: "8x7B rank 37", rank: 37, sizes: mixtral8x7b, want: { tp: 0, cp: 0, dp: 5, pp: 2, ep: 5, etp: 0, edp: 0 } },
    { name: "8x7B rank 63 (last)", rank: 63, sizes: mixtral8x7b, want: { tp: 0, cp: 0, dp: 15, pp: 3, ep: 7, etp: 0, edp: 1 } },
    // 77 = 1 + 4*(0 + 1*(3 + 4*4)); expert: 77 = 1 + 4*(1 + 2*(1 + 2*4))
    { name: "8x22B rank 77", rank: 77, sizes: mixtral8x22b, want: { tp: 1, cp: 0, dp: 3, pp: 4, ep: 1, etp: 1, edp: 1 } },
    { name: "8x22B rank 0", rank: 0, sizes: mixtral8x22b, want: { tp: 0, cp: 0, dp: 0, pp: 0, ep: 0, etp: 0, edp: 0 } },
    // CP folded into the expert mesh: 11 = 1 + 2*(1 + 2*(0 + 2*1)); expert: 11 = 0 + 1*(3 + 4*(0 + 2*1))
    { name: "TP2 CP2 with EP4 ETP1 rank 11", rank: 11, sizes: folded, want: { tp: 1, cp: 1, dp: 0, pp: 1, ep: 3, etp: 0, edp: 0 } },
    { name: "TP2 CP2 with EP4 ETP1 rank 6", rank: 6, sizes: folded, want: { tp: 0, cp: 1, dp: 1, pp: 0, ep: 2, etp: 0, edp: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(rankCoordinates(c.rank, c.sizes)).toEqual(c.want));
  }

  it("decodes the --use-tp-pp-dp-mapping order", () => {
    // order tp-cp-ep-pp-dp, world 16: attention tp-cp-pp-dp, expert tp-ep-pp-dp (EDP must equal DP)
    const sizes: MeshSizeSet = { tp: 2, cp: 1, dp: 4, pp: 2, ep: 2, etp: 1, edp: 4 };
    // 6 = 0 + 2*(0 + 1*(1 + 2*1)); expert: 6 = 0 + 1*(0 + 2*(1 + 2*1))
    expect(rankCoordinates(6, sizes, "tp-cp-ep-pp-dp")).toEqual({ tp: 0, cp: 0, dp: 1, pp: 1, ep: 0, etp: 0, edp: 1 });
  });

  it("matches the groups Megatron's generate_masked_orthogonal_rank_groups builds", () => {
    // Megatron's algorithm, restated: group members of a masked axis set share every unmasked digit.
    const groups = (sizes: number[], mask: boolean[]): number[][] => {
      const world = sizes.reduce((a, b) => a * b, 1);
      const stride = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a * b, 1));
      const byKey = new Map<string, number[]>();
      for (let r = 0; r < world; r++) {
        const digits = sizes.map((s, i) => Math.floor(r / stride[i]) % s);
        const key = digits.filter((_, i) => !mask[i]).join(",");
        byKey.set(key, [...(byKey.get(key) ?? []), r]);
      }
      return [...byKey.values()];
    };
    for (const s of [mixtral8x7b, mixtral8x22b, folded]) {
      const world = s.tp * s.cp * s.dp * s.pp;
      // expert mesh sizes in order tp(etp)-ep-dp(edp)-pp; the EP group masks the ep axis only
      for (const group of groups([s.etp, s.ep, s.edp, s.pp], [false, true, false, false])) {
        const coords = group.map((r) => rankCoordinates(r, s));
        expect(coords.map((c) => c.ep)).toEqual([...Array(s.ep).keys()]);
        expect(new Set(coords.map((c) => `${c.etp}/${c.edp}/${c.pp}`)).size).toBe(1);
      }
      // attention DP group masks dp in tp-cp-dp-pp
      for (const group of groups([s.tp, s.cp, s.dp, s.pp], [false, false, true, false])) {
        const coords = group.map((r) => rankCoordinates(r, s));
        expect(coords.map((c) => c.dp)).toEqual([...Array(s.dp).keys()]);
        expect(new Set(coords.map((c) => `${c.tp}/${c.cp}/${c.pp}`)).size).toBe(1);
      }
      expect(world).toBe(s.etp * s.ep * s.edp * s.pp);
    }
  });

  const bad = [
    { name: "rank past the world", rank: 64, sizes: mixtral8x7b, error: /rank 64 is outside 0..63/ },
    { name: "meshes of different worlds", rank: 0, sizes: { ...mixtral8x7b, edp: 4 }, error: /must cover the same world/ },
    { name: "zero size", rank: 0, sizes: { ...mixtral8x7b, tp: 0 }, error: /tp must be an integer >= 1/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => expect(() => rankCoordinates(c.rank, c.sizes)).toThrow(c.error));
  }

  it("rejects a pp-before-dp order whose meshes disagree on the stage", () => {
    // tp-cp-ep-pp-dp with DP 8 != EDP 2: rank 4 is pp 0 in attention, pp 1 in the expert mesh
    const sizes: MeshSizeSet = { tp: 1, cp: 1, dp: 8, pp: 2, ep: 4, etp: 1, edp: 2 };
    expect(() => rankCoordinates(4, sizes, "tp-cp-ep-pp-dp")).toThrow(/Megatron needs EDP == DP/);
  });
});
