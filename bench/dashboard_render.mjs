// First render of the dashboard's connections and audit pages in a real browser, against
// dashboard_api_bench's data (10,000 connections and 1,000,000 audit entries by default).
//
//   node bench/dashboard_render.mjs <dashboard_api_bench> <dashboard dist> [connections] [entries] [loads]
//
// It starts the bench program with SB_BENCH_DASHBOARD_DIST (which fills the database, times the
// API calls, then serves the dashboard and prints READY), signs in as its viewer in Debian's
// Chromium (playwright-core from tests/browser/node_modules), and loads each page `loads` times
// from a fresh navigation: the time runs from the navigation's start until the page's table
// shows its first row. The baseline in the same run is the sign-in page (the same app, no data
// call). Prints a Markdown table of p50 / p99 and the ratio to the baseline.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const [benchBin, dist, connections = '10000', entries = '1000000', loadsText = '30'] =
  process.argv.slice(2);
if (!benchBin || !dist) {
  console.error('usage: dashboard_render.mjs <dashboard_api_bench> <dashboard dist> ' +
                '[connections] [entries] [loads]');
  process.exit(2);
}
const loads = Number(loadsText);

function startBench() {
  const child = spawn(benchBin, [connections, entries, '50'], {
    env: { ...process.env, SB_BENCH_DASHBOARD_DIST: path.resolve(dist) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const ready = line.match(/^READY (\d+) (\S+) (\S+) (\S+)$/);
      if (ready) {
        resolve({ child, port: ready[1], tenant: ready[2], email: ready[3], password: ready[4] });
      } else {
        console.log(line);  // the API timings
      }
    });
    child.on('exit', (code) => reject(new Error(`dashboard_api_bench exited with ${code}`)));
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

// Milliseconds from the navigation's start until `ready` (a CSS selector) is in the page.
async function firstRender(page, url, ready) {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector(ready, { timeout: 30_000 });
  return page.evaluate(() => performance.now());
}

async function time(page, url, ready) {
  const ms = [];
  for (let i = 0; i < loads; i++) ms.push(await firstRender(page, url, ready));
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

const bench = await startBench();
const base = `http://127.0.0.1:${bench.port}/dashboard`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // The baseline: the sign-in page, before signing in.
  const baseline = await time(page, `${base}/`, '#signin-submit');
  await page.fill('#signin-tenant', bench.tenant);
  await page.fill('#signin-email', bench.email);
  await page.fill('#signin-password', bench.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#signin-submit', { state: 'detached', timeout: 30_000 });
  const rows = [
    ['baseline: the sign-in page', baseline],
    ['connections (first 50 of all)', await time(page, `${base}/connections`,
                                                 'tr[id^="connections-row-"]')],
    ['audit (first page)', await time(page, `${base}/audit`, 'table tbody tr')],
  ];
  console.log(`\n| page | p50 ms | p99 ms | p99 / baseline p99 |\n| --- | --- | --- | --- |`);
  for (const [name, t] of rows) {
    console.log(`| ${name} | ${t.p50.toFixed(0)} | ${t.p99.toFixed(0)} | ` +
                `${(t.p99 / baseline.p99).toFixed(1)} |`);
  }
} finally {
  await browser.close();
  bench.child.stdin.end();
}
