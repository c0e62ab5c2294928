-- The telemetry tables as WITHOUT ROWID tables (written by hand: Prisma's schema language cannot say
-- WITHOUT ROWID, and its diff does not look at it). A rowid table with a composite primary key keeps
-- every row's key twice, in the rowid table and in the primary-key index, each with the 36-character
-- run id; WITHOUT ROWID stores the rows in the primary-key B-tree itself, one B-tree less to write and
-- to store, and range reads by primary key (a layer's steps) read neighbouring rows.
-- LayerReport's (runId, rank, step) index had no reader (every query filters on run and step): dropped.
DROP INDEX "LayerReport_runId_rank_step_idx";

CREATE TABLE "new_LayerReport" (
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "layer" INTEGER NOT NULL,
    "rank" INTEGER NOT NULL,
    "microBatches" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "counts" BLOB NOT NULL,
    "countsBeforeDrop" BLOB,
    "received" BLOB,
    "dropped" BIGINT,
    "loadBalancingLoss" REAL,
    "seqLoadBalancingLoss" REAL,
    "globalLoadBalancingLoss" REAL,
    "zLoss" REAL,

    PRIMARY KEY ("runId", "step", "layer", "rank")
) WITHOUT ROWID;

INSERT INTO "new_LayerReport" ("runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received",
    "dropped", "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss")
SELECT "runId", "step", "layer", "rank", "microBatches", "tokens", "counts", "countsBeforeDrop", "received",
    "dropped", "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss" FROM "LayerReport";

DROP TABLE "LayerReport";

ALTER TABLE "new_LayerReport" RENAME TO "LayerReport";

CREATE TABLE "new_StepSample" (
    "runId" TEXT NOT NULL,
    "rank" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "iterationTimeMs" REAL,
    "lmLoss" REAL,
    "allocatedBytes" BIGINT,
    "reservedBytes" BIGINT,
    "peakAllocatedBytes" BIGINT,
    "numOoms" BIGINT,
    "numAllocRetries" BIGINT,
    "wallTimeMs" REAL,

    PRIMARY KEY ("runId", "rank", "step")
) WITHOUT ROWID;

INSERT INTO "new_StepSample" ("runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes",
    "peakAllocatedBytes", "numOoms", "numAllocRetries", "wallTimeMs")
SELECT "runId", "rank", "step", "iterationTimeMs", "lmLoss", "allocatedBytes", "reservedBytes",
    "peakAllocatedBytes", "numOoms", "numAllocRetries", "wallTimeMs" FROM "StepSample";

DROP TABLE "StepSample";

ALTER TABLE "new_StepSample" RENAME TO "StepSample";

CREATE INDEX "StepSample_runId_step_idx" ON "StepSample"("runId", "step");

CREATE TABLE "new_LayerAggregate" (
    "runId" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "ranksReported" INTEGER NOT NULL,
    "ranksExpected" INTEGER NOT NULL,
    "tokens" BIGINT NOT NULL,
    "load" BLOB NOT NULL,
    "maxVio" REAL,
    "cv" REAL,
    "entropy" REAL,
    "deadExperts" INTEGER NOT NULL,
    "epImbalance" REAL,
    "epWorstEdp" INTEGER,
    "epWorstRank" INTEGER,
    "receivedMismatches" INTEGER NOT NULL DEFAULT 0,
    "dropFraction" REAL,
    "loadBalancingLoss" REAL,
    "seqLoadBalancingLoss" REAL,
    "globalLoadBalancingLoss" REAL,
    "zLoss" REAL,

    PRIMARY KEY ("runId", "layer", "step")
) WITHOUT ROWID;

INSERT INTO "new_LayerAggregate" ("runId", "layer", "step", "ranksReported", "ranksExpected", "tokens", "load", "maxVio", "cv",
    "entropy", "deadExperts", "epImbalance", "epWorstEdp", "epWorstRank", "receivedMismatches", "dropFraction",
    "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss")
SELECT "runId", "layer", "step", "ranksReported", "ranksExpected", "tokens", "load", "maxVio", "cv",
    "entropy", "deadExperts", "epImbalance", "epWorstEdp", "epWorstRank", "receivedMismatches", "dropFraction",
    "loadBalancingLoss", "seqLoadBalancingLoss", "globalLoadBalancingLoss", "zLoss" FROM "LayerAggregate";

DROP TABLE "LayerAggregate";

ALTER TABLE "new_LayerAggregate" RENAME TO "LayerAggregate";

CREATE INDEX "LayerAggregate_runId_step_idx" ON "LayerAggregate"("runId", "step");
