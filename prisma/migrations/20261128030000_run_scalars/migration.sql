-- CreateTable
CREATE TABLE "RunScalar" (
    "runId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "value" REAL NOT NULL,

    PRIMARY KEY ("runId", "name", "layer", "step")
);


