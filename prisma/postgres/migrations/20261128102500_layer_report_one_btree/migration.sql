-- The (runId, rank, step) index of LayerReport had no reader (every query filters on run and step).
-- DropIndex
DROP INDEX "LayerReport_runId_rank_step_idx";
