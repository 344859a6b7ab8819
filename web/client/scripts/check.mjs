// `npm run check` (and the ctest test web_client): fails when src/schema.d.ts is not what
// openapi.json generates, when the client or its tests do not type-check, or when a test fails.
import { spawnSync } from "node:child_process";
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

process.chdir(fileURLToPath(new URL("..", import.meta.url)));

// The packages must be the ones package-lock.json pins, as scripts/install-deps.sh installs them.
const kInstalled = "node_modules/.package-lock.json";
if (!existsSync(kInstalled) || statSync("package-lock.json").mtimeMs > statSync(kInstalled).mtimeMs) {
  console.error("check: web/client/node_modules is missing or older than package-lock.json; " +
                "run ./scripts/install-deps.sh (or `npm ci` in web/client)");
  process.exit(1);
}
const { generateSchema } = await import("./generate.mjs");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const kContextLines = 6;

function run(args) {
  return spawnSync(process.execPath, args, { stdio: "inherit" }).status === 0;
}

// Prints where `committed` and `generated` first differ, a few lines of each from there.
function printDrift(committed, generated) {
  const a = committed.split("\n");
  const b = generated.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  console.error(`check: src/schema.d.ts is not what src/sb/api/openapi.json generates; ` +
                `first difference at line ${i + 1}:`);
  for (const [sign, lines] of [["-", a], ["+", b]]) {
    for (const line of lines.slice(i, i + kContextLines)) console.error(`  ${sign} ${line}`);
  }
  console.error("check: run `npm run generate` in web/client and commit src/schema.d.ts");
}

async function checkSchema() {
  const generated = await generateSchema({ silent: true });
  const committed = readFileSync("src/schema.d.ts", "utf8");
  if (generated === committed) return true;
  printDrift(committed, generated);
  return false;
}

// Compiles src/ and test/ into a scratch directory inside the package (so that the compiled
// code finds node_modules and the package's "type": "module") and runs the tests there.
function runTests() {
  mkdirSync(".check", { recursive: true });
  const out = mkdtempSync(join(".check", "run-"));
  try {
    // Types were checked by the previous step; skipLibCheck only saves time here.
    if (!run([tsc, "-p", "tsconfig.json", "--noEmit", "false", "--skipLibCheck", "--outDir", out])) {
      return false;
    }
    const tests = readdirSync(join(out, "test"))
      .filter((name) => name.endsWith(".test.js"))
      .map((name) => join(out, "test", name));
    if (tests.length === 0) {
      console.error("check: no tests found");
      return false;
    }
    return run(["--test", "--test-reporter=spec", ...tests]);
  } finally {
    rmSync(out, { recursive: true, force: true });
    try {
      rmdirSync(".check"); // unless another run is using it
    } catch {}
  }
}

const ok = (await checkSchema()) && run([tsc, "--noEmit", "-p", "tsconfig.json"]) && runTests();
process.exit(ok ? 0 : 1);
