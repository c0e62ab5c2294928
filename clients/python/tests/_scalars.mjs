import { register } from "tsx/esm/api";
register();
const { getScalarSeries } = await import(process.argv[2] + "/lib/web/data/queries.ts");
const out = await getScalarSeries(process.argv[3], { maxPoints: 10000 });
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
