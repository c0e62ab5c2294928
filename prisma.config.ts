// Prisma CLI configuration. The product itself never needs the CLI at run time: it applies the
// committed SQL migrations on start-up (lib/store/migrate.ts). DATABASE_URL is only read here for
// developers who run the stock CLI (migrate status/diff, studio) on a networked machine.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "file:./data/moe-telemetry.db" },
});
