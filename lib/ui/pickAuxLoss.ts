import type { LossName } from "../analysis/types";

const BY_BALANCING_TYPE: Record<string, LossName> = {
  aux_loss: "load_balancing_loss",
  seq_aux_loss: "seq_load_balancing_loss",
  global_aux_loss: "global_load_balancing_loss",
};

/** LOAD_BALANCING_LOSSES: the switch-style losses that are 1.0 at perfect balance. */
export const LOAD_BALANCING_LOSSES: readonly LossName[] = [
  "load_balancing_loss",
  "seq_load_balancing_loss",
  "global_load_balancing_loss",
];

/** configuredAuxLoss is the load-balancing loss a `moe_router_load_balancing_type` logs (null for types that log none, e.g. sinkhorn). */
export function configuredAuxLoss(balancingType: string | undefined): LossName | null {
  return BY_BALANCING_TYPE[balancingType ?? "aux_loss"] ?? null;
}

/**
 * pickAuxLoss chooses which load-balancing loss the aux-loss chart shows: the one the run's
 * `moe_router_load_balancing_type` logs (Megatron default aux_loss), else the first one that has data.
 */
export function pickAuxLoss(balancingType: string | undefined, available: readonly LossName[]): LossName {
  const wanted = configuredAuxLoss(balancingType);
  if (wanted && available.includes(wanted)) return wanted;
  const present = LOAD_BALANCING_LOSSES.find((l) => available.includes(l));
  return present ?? wanted ?? "load_balancing_loss";
}
