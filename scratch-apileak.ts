import fs from "node:fs";
import { startEmbeddedFarm } from "./test/helpers/embedded-farm.ts";
import { http, collectWs } from "./test/helpers/http.ts";
import { hashKey } from "./api/auth.ts";
const mode = process.argv[2];
const farm = await startEmbeddedFarm(mode === "auth" ? { api: { auth: { enabled: true, keys: [{ name: "a", sha256: hashKey("k"), scopes: ["admin"] }] } } } : {});
const h = mode === "auth" ? { "x-api-key": "k" } : {};
const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 0.3, steps: 2 } }, h);
const base = `${farm.url.replace("http", "ws")}/ws/${r.body.job_id}`;
if (mode === "auth") {
  await collectWs(base, 3000).then(() => console.log("no reject"), (e) => console.log("rejected", String(e)));
}
const ok = await collectWs(mode === "auth" ? `${base}?api_key=k` : base, 5000);
console.log("ws", ok.closeCode, ok.messages.length);
const t = setInterval(() => console.log("still stopping..."), 1000);
const t0 = Date.now();
await farm.destroy();
clearInterval(t);
console.log("destroy ms", Date.now() - t0, "exists:", fs.existsSync(farm.dataDir));
