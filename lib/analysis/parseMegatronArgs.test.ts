import { describe, expect, it } from "vitest";
import { InvalidInput } from "./errors";
import { parseMegatronArgs } from "./parseMegatronArgs";
import { seedLaunchScript } from "./testdata/seedLaunchScript";
import { validateRunConfig } from "./validateRunConfig";

describe("parseMegatronArgs: the seed's launch script", () => {
  const parsed = parseMegatronArgs(seedLaunchScript);

  it("reads the MoE and parallel configuration", () => {
    expect(parsed.config).toMatchObject({
      num_layers: 32,
      hidden_size: 4096,
      seq_length: 4096,
      num_experts: 8,
      expert_model_parallel_size: 8,
      moe_router_load_balancing_type: "aux_loss",
      moe_router_topk: 2,
      moe_aux_loss_coeff: 1e-2,
      moe_grouped_gemm: true,
      micro_batch_size: 1,
      global_batch_size: 128,
      bf16: true,
      tensor_model_parallel_size: 1,
      pipeline_model_parallel_size: 4,
      num_layers_per_virtual_pipeline_stage: 8,
      sequence_parallel: true,
      disable_bias_linear: true,
      // not on the command line: Megatron's default
      context_parallel_size: 1,
    });
  });

  it("keeps other flags in extra and the unexpanded ones as text", () => {
    expect(parsed.config.extra).toMatchObject({
      ffn_hidden_size: "14336",
      normalization: "RMSNorm",
      swiglu: "true",
      no_masked_softmax_fusion: "true",
      split: "99990,8,2",
      lr: "1e-4",
      use_distributed_optimizer: "true",
      tokenizer_model: "${TOKENIZER_MODEL}",
      data_path: "$DATA_PATH",
      save: "$CHECKPOINT_PATH",
      tensorboard_dir: "${CHECKPOINT_PATH}/tensorboard",
    });
    expect(parsed.unexpanded).toEqual(["tokenizer_model", "data_path", "save", "load", "tensorboard_dir"]);
    // the wandb flags are added only inside an if block
    expect(parsed.config.extra?.wandb_project).toBeUndefined();
    expect(parsed.unknown).toEqual([]);
  });

  it("gets the world size from torchrun: GPUS_PER_NODE 8 x NNODES default 1", () => {
    expect(parsed.worldSize).toBe(8);
    expect(parsed.gpusPerNode).toBe(8);
  });

  it("on one node the script breaks rule 2 (EP8 x PP4 = 32 > 8 GPUs)", () => {
    expect(validateRunConfig(parsed.config, { worldSize: parsed.worldSize!, gpusPerNode: 8 })).toEqual([
      {
        rule: "world-divisible-by-etp-ep-pp",
        severity: "error",
        message:
          "world size 8 is not divisible by ETP*EP*PP = 32 (expert_tensor_parallel_size 1 (defaults to tensor_model_parallel_size) x expert_model_parallel_size 8 x pipeline_model_parallel_size 4)",
      },
    ]);
  });

  it("on the 32 GPUs its comment names (NNODES=4) it validates clean", () => {
    const four = parseMegatronArgs("NNODES=4\n" + seedLaunchScript);
    expect(four.worldSize).toBe(32);
    expect(validateRunConfig(four.config, { worldSize: 32, gpusPerNode: 8 })).toEqual([]);
  });
});

describe("parseMegatronArgs", () => {
  it("reads --flag=value, switches, lists and aliases from a one-line torchrun command", () => {
    const line =
      "torchrun --nproc_per_node=8 --nnodes 2 pretrain_gpt.py \\\n" +
      ' --num-layers=24 --num-experts 64 --moe-router-topk 6 --tensor-model-parallel-size 2 --sequence-parallel --disable-bias-linear' +
      ' --expert-model-parallel-size 8 --expert-tensor-parallel-size 1 --moe-layer-freq "([0]+[1]*23)"' +
      " --moe-expert-capacity-factor 1.0 --moe-pad-expert-input-to-capacity --moe-token-drop-policy position" +
      " --recompute-granularity selective --recompute-modules moe mla_up_proj --moe-router-enable-expert-bias --moe-layer-recompute" +
      " --fp8-format hybrid --moe-aux-loss-coeff 1e-3 --moe-z-loss-coeff 1e-3 --moe-token-dispatcher-type alltoall --lr 3e-4";
    const got = parseMegatronArgs(line);
    expect(got.config).toEqual({
      num_layers: 24,
      num_experts: 64,
      moe_router_topk: 6,
      tensor_model_parallel_size: 2,
      sequence_parallel: true,
      disable_bias_linear: true,
      expert_model_parallel_size: 8,
      expert_tensor_parallel_size: 1,
      moe_layer_freq: "([0]+[1]*23)",
      moe_expert_capacity_factor: 1,
      moe_pad_expert_input_to_capacity: true,
      moe_token_drop_policy: "position",
      recompute_granularity: "selective",
      recompute_modules: ["moe", "mla_up_proj"],
      moe_router_enable_expert_bias: true,
      moe_layer_recompute: true,
      fp8: "hybrid",
      moe_aux_loss_coeff: 1e-3,
      moe_z_loss_coeff: 1e-3,
      moe_token_dispatcher_type: "alltoall",
      pipeline_model_parallel_size: 1,
      context_parallel_size: 1,
      extra: { lr: "3e-4" },
    });
    // 8 per node x 2 nodes
    expect(got.worldSize).toBe(16);
    expect(got.gpusPerNode).toBe(8);
  });

  it("accepts an argv array and applies Megatron's defaults", () => {
    const got = parseMegatronArgs(["--num-layers", "4", "--num-experts", "8", "--bf16"]);
    expect(got.config).toEqual({
      num_layers: 4,
      num_experts: 8,
      bf16: true,
      moe_router_topk: 2,
      tensor_model_parallel_size: 1,
      pipeline_model_parallel_size: 1,
      context_parallel_size: 1,
      expert_model_parallel_size: 1,
    });
    expect(got.worldSize).toBeUndefined();
    expect(got.unexpanded).toEqual([]);
  });

  it.each([
    {
      name: "an unexpanded parallel size keeps the default and is reported",
      argv: ["--num-layers", "4", "--num-experts", "8", "--tensor-model-parallel-size", "$TP"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => {
        expect(got.config.tensor_model_parallel_size).toBe(1);
        expect(got.config.extra).toEqual({ tensor_model_parallel_size: "$TP" });
        expect(got.unexpanded).toEqual(["tensor_model_parallel_size"]);
      },
    },
    {
      name: "a stray token after a switch is unknown",
      argv: ["--num-layers", "4", "--num-experts", "8", "--bf16", "stray"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => expect(got.unknown).toEqual(["stray"]),
    },
    {
      name: "--recompute-activations means selective recomputation",
      argv: ["--num-layers", "4", "--num-experts", "8", "--recompute-activations"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => {
        expect(got.config.recompute_granularity).toBe("selective");
        expect(got.config.extra).toEqual({ recompute_activations: "true" });
      },
    },
    {
      name: "several load-balancing types are kept together",
      argv: ["--num-layers", "4", "--num-experts", "8", "--moe-router-load-balancing-type", "aux_loss", "seq_aux_loss", "--moe-aux-loss-coeff", "1e-2", "1e-3"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => {
        expect(got.config.moe_router_load_balancing_type).toBe("aux_loss seq_aux_loss");
        expect(got.config.moe_aux_loss_coeff).toBeUndefined();
        expect(got.config.extra).toEqual({ moe_aux_loss_coeff: "1e-2 1e-3" });
      },
    },
    {
      name: "a negative number is a value, not a flag",
      argv: ["--num-layers", "4", "--num-experts", "8", "--moe-expert-capacity-factor", "-1"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => expect(got.config.moe_expert_capacity_factor).toBe(-1),
    },
    {
      name: "python -m torch.distributed.run with --nproc-per-node",
      argv: ["python", "-m", "torch.distributed.run", "--nproc-per-node", "4", "pretrain_gpt.py", "--num-layers", "4", "--num-experts", "8"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => {
        expect(got.worldSize).toBe(4);
        expect(got.unknown).toEqual([]);
      },
    },
    {
      name: "an elastic --nnodes range gives no world size",
      argv: ["torchrun", "--nproc_per_node", "8", "--nnodes", "1:4", "pretrain_gpt.py", "--num-layers", "4", "--num-experts", "8"],
      check: (got: ReturnType<typeof parseMegatronArgs>) => {
        expect(got.worldSize).toBeUndefined();
        expect(got.gpusPerNode).toBe(8);
      },
    },
  ])("$name", ({ argv, check }) => {
    check(parseMegatronArgs(argv));
  });

  it.each([
    { name: "no --num-experts", argv: ["--num-layers", "4"], message: "--num-experts is required to monitor an MoE run, but it is missing (not an MoE run?)", field: "num_experts" },
    {
      name: "unexpanded --num-layers",
      argv: ["--num-layers", "$NUM_LAYERS", "--num-experts", "8"],
      message: '--num-layers is required to monitor an MoE run, but its value "$NUM_LAYERS" is an unexpanded shell variable',
      field: "num_layers",
    },
    { name: "non-integer size", argv: ["--num-layers", "4", "--num-experts", "eight"], message: '--num-experts expects an integer, got "eight"', field: "num_experts" },
    { name: "value for a switch", argv: ["--num-layers", "4", "--num-experts", "8", "--bf16=yes"], message: '--bf16 is a switch and takes no value, got "yes"', field: "bf16" },
    { name: "missing value", argv: ["--num-experts", "8", "--num-layers"], message: "--num-layers expects a value", field: "num_layers" },
    { name: "two values for one", argv: ["--num-experts", "8", "--num-layers", "4", "8"], message: '--num-layers takes one value, got "4 8"', field: "num_layers" },
  ])("rejects $name", ({ argv, message, field }) => {
    let caught: unknown;
    try {
      parseMegatronArgs(argv);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidInput);
    expect((caught as InvalidInput).message).toBe(message);
    expect((caught as InvalidInput).field).toBe(field);
  });
});
