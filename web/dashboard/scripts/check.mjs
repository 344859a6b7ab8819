// `npm run check` (and the ctest test web_dashboard): the app and its tests type-check, the unit
// tests pass, and the production build succeeds (dist/).
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

process.chdir(fileURLToPath(new URL("..", import.meta.url)));

// The packages must be the ones package-lock.json pins, as scripts/install-deps.sh installs them.
const kInstalled = "node_modules/.package-lock.json";
if (!existsSync(kInstalled) || statSync("package-lock.json").mtimeMs > statSync(kInstalled).mtimeMs) {
  console.error("check: web/dashboard/node_modules is missing or older than package-lock.json; " +
                "run ./scripts/install-deps.sh (or `npm ci` in web/dashboard)");
  process.exit(1);
}
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
// Their command-line entry points (not in the packages' exports).
const vitest = "node_modules/vitest/vitest.mjs";
const vite = "node_modules/vite/bin/vite.js";

function run(args) {
  return spawnSync(process.execPath, args, { stdio: "inherit" }).status === 0;
}

const ok = run(["scripts/build-client.mjs"]) &&
  run([tsc, "--noEmit", "-p", "tsconfig.json"]) &&
  run([vitest, "run"]) &&
  run([vite, "build", "--logLevel", "warn"]);
process.exit(ok ? 0 : 1);
