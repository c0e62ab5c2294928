import { describe, expect, it } from "vitest";
import { decideGroupNotification, type GroupNotifyState, type GroupTiming } from "./decideGroupNotification";

const T: GroupTiming = { groupWaitMs: 5_000, groupIntervalMs: 60_000, repeatIntervalMs: 600_000 };

/** play feeds (time, firing members) through the group and returns what was sent when. */
function play(frames: Array<[number, string[]]>, t = T): string[] {
  let state: GroupNotifyState | null = null;
  const out: string[] = [];
  for (const [now, firing] of frames) {
    const r = decideGroupNotification(state, firing, now, t);
    state = r.state;
    if (r.send) out.push(`${now}:${r.send}[${firing.length}]${r.resolved.length ? `-${r.resolved.join(",")}` : ""}`);
  }
  return out;
}

const layers = (n: number) => Array.from({ length: n }, (_, i) => `layer:${i}`);

describe("decideGroupNotification", () => {
  const cases: Array<{ name: string; frames: Array<[number, string[]]>; sent: string[]; t?: GroupTiming }> = [
    {
      name: "32 layers crossing over 3 s send one message after group_wait, not 32",
      frames: [[0, layers(2)], [1_000, layers(10)], [3_000, layers(32)], [5_000, layers(32)], [6_000, layers(32)]],
      sent: ["5000:firing[32]"],
    },
    {
      name: "a layer joining later waits for group_interval since the last message",
      frames: [[0, layers(3)], [5_000, layers(3)], [10_000, layers(4)], [64_000, layers(4)], [65_000, layers(4)], [70_000, layers(4)]],
      sent: ["5000:firing[3]", "65000:firing[4]"],
    },
    {
      name: "partial resolution is reported with the next message, full resolution ends the group once",
      frames: [[0, layers(3)], [5_000, layers(3)], [65_000, layers(2)], [70_000, []], [124_000, []], [125_000, []], [200_000, []]],
      sent: ["5000:firing[3]", "65000:firing[2]-layer:2", "125000:resolved[0]-layer:0,layer:1"],
    },
    {
      name: "a group that clears inside its wait never notifies",
      frames: [[0, layers(2)], [2_000, []], [10_000, []]],
      sent: [],
    },
    {
      name: "an unchanged group is repeated after repeat_interval",
      frames: [[0, ["rank:1"]], [5_000, ["rank:1"]], [604_000, ["rank:1"]], [605_000, ["rank:1"]]],
      sent: ["5000:firing[1]", "605000:renotify[1]"],
    },
    {
      name: "zero timers notify at once on every change",
      t: { groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 0 },
      frames: [[0, ["layer:1"]], [1, ["layer:1", "layer:2"]], [2, []]],
      sent: ["0:firing[1]", "1:firing[2]", "2:resolved[0]-layer:1,layer:2"],
    },
  ];
  for (const c of cases) it(c.name, () => expect(play(c.frames, c.t)).toEqual(c.sent));
});
