/**
 * `moe-telemetry`: serve the dashboard and collector, run a collector alone, simulate a run, dump
 * stored data, apply migrations, manage ingest tokens.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { runCollector } from "./runCollector";
import { runServe } from "./runServe";
import { runSimulate } from "./runSimulate";
import { runDump } from "./runDump";
import { runCheckConfig } from "./runCheckConfig";
import { runExport } from "./runExport";
import { runImport, type ImportKind } from "./runImport";
import { runUsers } from "./runUsers";
import { projectsList, tokensCreate, tokensList, tokensRevoke } from "./runTokens";
import { migrateDatabase } from "../lib/store/migrate";
import { parseDatabaseUrl, redactUrl } from "../lib/store/databaseUrl";
import { parseEnv } from "../lib/runtime/env";

function int(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}"`);
    return n;
  };
}

const env = parseEnv();

/** securityOptions adds the ingest-token and TLS flags shared by `serve` and `collector`. */
function securityOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--ingest-auth <mode>", "check ingest tokens (INGEST_AUTH)").choices(["on", "off"]).default(env.INGEST_AUTH))
    .option("--tls-cert <file>", "PEM certificate (chain) of the collector; enables TLS (COLLECTOR_TLS_CERT)")
    .option("--tls-key <file>", "PEM private key of --tls-cert (COLLECTOR_TLS_KEY)")
    .option("--tls-client-ca <file>", "PEM CA that signs client certificates; clients must then present one (COLLECTOR_TLS_CLIENT_CA)");
}

const program = new Command();
program
  .name("moe-telemetry")
  .description("Live monitoring of Mixture-of-Experts training runs: collector, dashboard, simulator.")
  .showHelpAfterError();

securityOptions(program
  .command("serve")
  .description("start the gRPC collector and the dashboard (after `npm run build`)")
  .option("--port <port>", "dashboard HTTP port", int("--port"), env.PORT)
  .option("--collector-port <port>", "collector gRPC port", int("--collector-port"), env.COLLECTOR_PORT)
  .option("--collector-host <host>", "collector bind address", env.COLLECTOR_HOST)
  .option("--database <url>", "database URL (file:PATH for SQLite)", env.DATABASE_URL))
  .action((o) => runServe({ ...o, env }));

securityOptions(program
  .command("collector")
  .description("start the gRPC collector only")
  .option("--port <port>", "gRPC port (0 picks a free one)", int("--port"), env.COLLECTOR_PORT)
  .option("--host <host>", "bind address", env.COLLECTOR_HOST)
  .option("--database <url>", "database URL (file:PATH for SQLite)", env.DATABASE_URL))
  .action((o) => runCollector({ ...o, env }));

program
  .command("simulate")
  .description("play a SIMULATED Megatron-style MoE run against a collector")
  .option("--collector <address>", "collector address(es), comma-separated", `127.0.0.1:${env.COLLECTOR_PORT}`)
  .option("--ranks <n>", "world size", int("--ranks", 1), 64)
  .option("--steps <n>", "training steps", int("--steps", 1), 500)
  .addOption(new Option("--scenario <name>", "what the router does").choices(["early-imbalance", "balanced", "oom"]).default("early-imbalance"))
  .option("--experts <n>", "num_experts", int("--experts", 1), 8)
  .option("--topk <n>", "moe_router_topk", int("--topk", 1), 2)
  .option("--layers <n>", "num_layers", int("--layers", 1), 32)
  .option("--ep <n>", "expert_model_parallel_size", int("--ep", 1), 8)
  .option("--pp <n>", "pipeline_model_parallel_size", int("--pp", 1), 4)
  .option("--tp <n>", "tensor_model_parallel_size", int("--tp", 1), 1)
  .option("--cp <n>", "context_parallel_size", int("--cp", 1), 1)
  .option("--etp <n>", "expert_tensor_parallel_size (default: TP)", int("--etp", 1))
  .option("--vpp <n>", "virtual pipeline stages per rank", int("--vpp", 1))
  .option("--moe-layer-freq <spec>", "moe_layer_freq: N or a Python list such as ([0]+[1]*31)")
  .option("--seed <n>", "random seed", int("--seed"), 1)
  .option("--step-interval-ms <ms>", "wall time between steps (0: as fast as possible)", int("--step-interval-ms"), 200)
  .option("--run-key <key>", "run key (default: a new one)")
  .option("--name <name>", "run name")
  .option("--json", "print the summary as JSON")
  .option("--token <token>", "ingest token (default: env MOE_TELEMETRY_TOKEN)")
  .option("--tls-ca <file>", "PEM CA that signed the collector's certificate; enables TLS (env MOE_TELEMETRY_TLS_CA)")
  .option("--tls-cert <file>", "PEM client certificate, when the collector requires one (env MOE_TELEMETRY_TLS_CERT)")
  .option("--tls-key <file>", "PEM key of --tls-cert (env MOE_TELEMETRY_TLS_KEY)")
  .action((o) => runSimulate(o));

program
  .command("dump")
  .description("print a run's stored reports as JSON lines")
  .requiredOption("--run <key>", "run key")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((o) => runDump(o));

program
  .command("import <kind> <path>")
  .description("import a run that was not instrumented: megatron-log (stdout log), tensorboard (event file) or tokens-jsonl (token-count dump)")
  .option("--run <name>", "run name (default: the file name)")
  .option("--run-key <key>", "run key (default: derived from the file's path, so importing again updates the same run)")
  .option("--collector <address>", "send through this collector instead of writing to --database")
  .option("--database <url>", "database URL (written directly, with the collector's validation and writer)", env.DATABASE_URL)
  .option("--config <file>", "Megatron launch script or command line, when the input does not print its arguments")
  .option("--layers <n>", "num_layers", int("--layers", 1))
  .option("--experts <n>", "num_experts", int("--experts", 1))
  .option("--topk <n>", "moe_router_topk", int("--topk", 1))
  .option("--world-size <n>", "number of GPUs", int("--world-size", 1))
  .option("--json", "print a machine-readable summary")
  .action((kind: string, file: string, o) => {
    if (!["megatron-log", "tensorboard", "tokens-jsonl"].includes(kind)) {
      throw new InvalidArgumentError(`unknown kind "${kind}": use megatron-log, tensorboard or tokens-jsonl`);
    }
    return runImport(kind as ImportKind, file, o);
  });

program
  .command("export <run>")
  .description("export a run (id or run key): per-(step, layer) aggregates, or with --raw the per-rank counts")
  .addOption(new Option("--format <format>", "output format").choices(["csv", "json"]).default("csv"))
  .option("--raw", "per-rank counts instead of aggregates")
  .option("--series", "CSV: the named series (name,layer,step,value: lm loss, z_loss, learning rate, ...) instead of aggregates; JSON always has them")
  .option("--out <file>", "write to a file instead of stdout")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((run: string, o) => runExport(run, o));

program
  .command("check-config [file]")
  .description("check a Megatron launch script or command line (file, or - / nothing for stdin) against Megatron's parallelism rules")
  .option("--world-size <n>", "number of GPUs (default: from torchrun's --nproc_per_node x --nnodes)", int("--world-size", 1))
  .option("--gpus-per-node <n>", "GPUs per node (NVLink domain)", int("--gpus-per-node", 1))
  .option("--json", "print the full check as JSON")
  .action((file: string | undefined, o) => runCheckConfig(file, o));

const tokens = program.command("tokens").description("ingest tokens the collector requires (per project; shown once, stored hashed)");
tokens
  .command("create")
  .description("create a token for a project (created if missing) and print it once")
  .requiredOption("--project <name>", "project the token writes runs for")
  .option("--name <name>", "what the token is for, e.g. the cluster or job")
  .option("--json", "print the token and its details as JSON")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((o) => tokensCreate(o));
tokens
  .command("list")
  .description("list tokens (never the secrets): id, project, name, prefix, created, last used, revoked")
  .option("--json", "print JSON")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((o) => tokensList(o));
tokens
  .command("revoke <id>")
  .description("revoke a token; collectors refuse it within a few seconds")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((id: string, o) => tokensRevoke(id, o));
program
  .command("projects")
  .description("projects that own runs and ingest tokens")
  .command("list")
  .description("list projects")
  .option("--json", "print JSON")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((o) => projectsList(o));

program
  .command("migrate")
  .description("apply pending database migrations (the collector and dashboard also do this at start)")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action(async (o: { database: string }) => {
    const target = parseDatabaseUrl(o.database);
    const r = await migrateDatabase(target);
    console.log(`${redactUrl(target.url)}: applied ${r.applied.length} migration(s)${r.applied.length ? ` (${r.applied.join(", ")})` : ""}, ${r.alreadyApplied} already applied`);
  });

const users = program.command("users").description("dashboard users (roles: viewer < editor < admin); passwords from a hidden prompt or --password-stdin");
users
  .command("create <username>")
  .description("create a user")
  .addOption(new Option("--role <role>", "role").choices(["viewer", "editor", "admin"]).default("viewer"))
  .option("--password-stdin", "read the password from stdin instead of prompting")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((username: string, o) => runUsers({ kind: "create", username, role: o.role, passwordStdin: !!o.passwordStdin }, o));
users
  .command("list")
  .description("list users with their roles")
  .option("--json", "print JSON")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((o) => runUsers({ kind: "list", json: !!o.json }, o));
users
  .command("set-role <username> <role>")
  .description("change a user's role (viewer, editor or admin); applies to the user's next request")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((username: string, role: string, o) => runUsers({ kind: "set-role", username, role }, o));
users
  .command("disable <username>")
  .description("disable a user and end their sessions")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((username: string, o) => runUsers({ kind: "disable", username }, o));
users
  .command("enable <username>")
  .description("enable a disabled user again")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((username: string, o) => runUsers({ kind: "enable", username }, o));
users
  .command("reset-password <username>")
  .description("set a new password and end the user's sessions")
  .option("--password-stdin", "read the password from stdin instead of prompting")
  .option("--database <url>", "database URL", env.DATABASE_URL)
  .action((username: string, o) => runUsers({ kind: "reset-password", username, passwordStdin: !!o.passwordStdin }, o));

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`moe-telemetry: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
