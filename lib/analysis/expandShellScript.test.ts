import { describe, expect, it } from "vitest";
import { expandShellScript } from "./expandShellScript";

describe("expandShellScript", () => {
  it.each([
    { name: "plain command", text: "torchrun --nproc_per_node 8 pretrain_gpt.py --num-layers 2", want: ["torchrun", "--nproc_per_node", "8", "pretrain_gpt.py", "--num-layers", "2"] },
    { name: "backslash-newline continuation", text: "python pretrain_gpt.py \\\n  --num-layers 2 \\\n  --bf16", want: ["python", "pretrain_gpt.py", "--num-layers", "2", "--bf16"] },
    { name: "quotes keep spaces and brackets", text: `p.py --moe-layer-freq "([0]+[1]*3)" --name 'a b'`, want: ["p.py", "--moe-layer-freq", "([0]+[1]*3)", "--name", "a b"] },
    { name: "scalar variables", text: "TP=2\np.py --tensor-model-parallel-size $TP --x ${TP}0", want: ["p.py", "--tensor-model-parallel-size", "2", "--x", "20"] },
    { name: "default when unset", text: `N=\${NNODES:-"1"}\np.py --nnodes $N`, want: ["p.py", "--nnodes", "1"] },
    { name: "an earlier assignment beats the default", text: `NNODES=4\nN=\${NNODES:-"1"}\np.py --nnodes $N`, want: ["p.py", "--nnodes", "4"] },
    {
      name: "arrays with comments and continuations",
      text: "A=(\n  --num-experts 8 # eight experts\n  --bf16 \\\n  --x 1\n)\np.py ${A[@]} --y",
      want: ["p.py", "--num-experts", "8", "--bf16", "--x", "1", "--y"],
    },
    { name: "append to an array", text: "A=(--a 1)\nA+=(--b 2)\np.py ${A[@]}", want: ["p.py", "--a", "1", "--b", "2"] },
    { name: "assignments inside if are not applied", text: "A=(--a)\nif [ -n \"$X\" ]; then\nA+=(--b)\nfi\np.py ${A[@]}", want: ["p.py", "--a"] },
    { name: "positional and never-assigned variables stay as written", text: "C=$1\np.py --save $C --load ${C}/x --data $DATA", want: ["p.py", "--save", "$C", "--load", "${C}/x", "--data", "$DATA"] },
    { name: "arithmetic stays as written", text: "W=$((2*4))\np.py --w $W", want: ["p.py", "--w", "$W"] },
    { name: "single quotes are literal", text: "p.py --x '$HOME'", want: ["p.py", "--x", "$HOME"] },
    { name: "the command with the most flags wins", text: "cd /work && echo start\nexport X=1\ntorchrun p.py --a --b\necho done", want: ["torchrun", "p.py", "--a", "--b"] },
    { name: "environment prefix does not leak", text: "CUDA_DEVICE_MAX_CONNECTIONS=1 torchrun p.py --a", want: ["torchrun", "p.py", "--a"] },
    { name: "CRLF line endings", text: "p.py \\\r\n --a 1\r\n", want: ["p.py", "--a", "1"] },
    { name: "empty input", text: "", want: [] },
  ])("$name", ({ text, want }) => {
    expect(expandShellScript(text).argv).toEqual(want);
  });
});
