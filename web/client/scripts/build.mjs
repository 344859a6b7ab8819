// Builds the package into the directory named by the first argument (`npm run build`: dist/):
// tsc with tsconfig.build.json, plus the generated schema.d.ts, which tsc does not copy and
// which index.d.ts imports.
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const out = process.argv[2];
if (!out) {
  console.error("usage: node scripts/build.mjs <output directory>");
  process.exit(2);
}
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const { status } = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", out], {
  stdio: "inherit",
});
if (status !== 0) process.exit(status ?? 1);
copyFileSync("src/schema.d.ts", join(out, "schema.d.ts"));
