// Builds the linked @switchboard/client into web/client/dist (what its package.json exports)
// with this folder's TypeScript (tsconfig.client.json), plus the generated schema.d.ts that
// index.d.ts imports: the same output as `npm run build` in web/client, without needing
// web/client's node_modules.
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

process.chdir(fileURLToPath(new URL("..", import.meta.url)));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const { status } = spawnSync(process.execPath, [tsc, "-p", "tsconfig.client.json"], { stdio: "inherit" });
if (status !== 0) process.exit(status ?? 1);
copyFileSync("../client/src/schema.d.ts", "../client/dist/schema.d.ts");
