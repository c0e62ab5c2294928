-- CreateTable
CREATE TABLE "RunScalar" (
    "runId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "RunScalar_pkey" PRIMARY KEY ("runId","name","layer","step")
);


