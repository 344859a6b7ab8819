// Verifies Standard Webhooks deliveries with the real `standardwebhooks` library, exactly as a
// host app would. Reads from stdin a JSON array of
//   {"secret": "whsec_...", "headers": {"webhook-id", "webhook-timestamp", "webhook-signature"},
//    "body": "<the raw body>", "now": <optional: the receiver's clock, Unix seconds>}
// and prints one line per item: "ok", or the library's error. Exits 1 when any item fails.
// Driven by the webhooks_interop test (src/sb/webhooks/signature_interop_test.cc).
import { Webhook } from "standardwebhooks";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const items = JSON.parse(Buffer.concat(chunks).toString("utf8"));
if (!Array.isArray(items)) {
  console.log("input is not a JSON array");
  process.exit(2);
}

let failed = false;
const realNow = Date.now;
for (const item of items) {
  // Deliveries stamped by a test's fake clock are checked against that clock.
  Date.now = typeof item.now === "number" ? () => item.now * 1000 : realNow;
  try {
    new Webhook(item.secret).verify(item.body, item.headers);
    console.log("ok");
  } catch (e) {
    failed = true;
    console.log(String(e).replace(/\s+/g, " "));
  }
}
process.exitCode = failed ? 1 : 0;
