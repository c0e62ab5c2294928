#!/usr/bin/env node
// The `moe-telemetry` command. Runs the TypeScript sources through tsx, so a checkout needs no build
// step for the CLI, the collector or the simulator.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
