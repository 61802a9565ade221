/**
 * farmctl: the operator CLI. Talks to the front door's HTTP API, so it works the same
 * against an embedded farm or a distributed one. Human tables by default, --json for scripts.
 *
 *   farmctl status | nodes | models | jobs [--status S] [--type T] [--limit N] | job <id>
 *   farmctl submit <type> [--params JSON] [--priority N] [--wait]
 *   farmctl cancel <job> | why <job> | drain <node> | undrain <node>
 *   farmctl watch [--once]
 *
 * Options: --url (env FARM_URL, default http://127.0.0.1:8000), --api-key (env FARM_API_KEY), --json.
 */
import { parseArgs } from "node:util";
import { renderStatus, renderNodes, renderJobs, renderJob, renderWhy } from "./render.ts";
import { watchJob } from "./watch.ts";
import { watchFarm } from "./watch-farm.ts";
import { modelRows, renderModels } from "./models.ts";

const HELP = `usage: farmctl <command> [options]

commands:
  status                 nodes, GPUs (VRAM used/total, utilisation, resident models), running jobs, queue depth
  nodes                  nodes and the job types and models they offer
  models                 every model (catalog models/*.yaml + what nodes offer), per node: offered, or absent and why
  jobs                   list jobs (--status pending|running|completed|failed|cancelled, --type T, --limit N)
  job <id>               one job
  submit <type>          submit a job (--params '{"seconds":2}', --priority N, --wait: show live progress, then the job)
  cancel <id>            cancel a job
  why <id>               why a job was placed where it was, or nowhere (per-node reasons)
  drain <node>           stop sending new work to a node (running jobs finish)
  undrain <node>         let a drained node take work again
  unblock <node> [--type T]  lift a node's blocklist (all job types, or one) and reset its failure counts
  watch [--once]         live view: nodes and GPUs, queue with wait times, running jobs with progress bars (--once: print one view and exit)

options:
  --url URL              API address (env FARM_URL, default http://127.0.0.1:8000)
  --api-key KEY          API key (env FARM_API_KEY)
  --json                 machine-readable output
`;

/** farmctl's options (node:util parseArgs). */
const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean", default: false },
  status: { type: "string" },
  type: { type: "string" },
  limit: { type: "string" },
  params: { type: "string" },
  priority: { type: "string" },
  wait: { type: "boolean", default: false },
  once: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    // Node's own message ("Option '--type <value>' argument missing"), without its error class.
    process.stderr.write(`farmctl: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [cmd, arg] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(HELP);
    return cmd || values.help ? 0 : 2;
  }
  const base = (values.url ?? process.env.FARM_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
  if (!/^https?:\/\/[^/]/i.test(base) || !URL.canParse(base)) {
    process.stderr.write(`farmctl: ${values.url !== undefined ? "--url" : "FARM_URL"} '${base}' is not an http(s) URL (e.g. http://127.0.0.1:8000)\n`);
    return 2;
  }
  const key = values["api-key"] ?? process.env.FARM_API_KEY;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const why = (err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message;
      throw new CliError(`cannot reach the farm at ${base} (${why}); is it running there? --url or FARM_URL name another address`);
    }
    const text = await res.text();
    let data: unknown = text;
    try {
      data = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    if (!res.ok) {
      const e = data as { code?: string; message?: string };
      // The API's 401 says which headers to send; farmctl's caller sets them through its own options.
      const hint =
        res.status === 401 ? (key ? " (farmctl sent the key of --api-key / FARM_API_KEY)" : "; farmctl sends one given --api-key or FARM_API_KEY") : "";
      throw new CliError(`${res.status} ${e.code ?? ""}: ${e.message ?? text}${hint}`.trim());
    }
    return data;
  };
  const need = (what: string) => {
    if (!arg) throw new CliError(`farmctl ${cmd} needs ${what}`);
    return encodeURIComponent(arg);
  };
  const out = (data: unknown, human: (d: never) => string) => {
    process.stdout.write((values.json ? JSON.stringify(data, null, 2) : human(data as never)) + "\n");
  };

  try {
    switch (cmd) {
      case "status":
        out(await call("GET", "/api/v1/farm/status"), renderStatus);
        break;
      case "nodes":
        out(await call("GET", "/api/v1/farm/nodes"), renderNodes);
        break;
      case "models": {
        const rows = modelRows(((await call("GET", "/api/v1/farm/nodes")) as { nodes: Parameters<typeof modelRows>[0] }).nodes);
        out(values.json ? { models: rows } : rows, renderModels);
        break;
      }
      case "jobs": {
        const q = new URLSearchParams();
        if (values.status) q.set("status", values.status);
        if (values.type) q.set("type", values.type);
        q.set("limit", values.limit ?? "20");
        out(await call("GET", `/api/v1/jobs/list?${q}`), renderJobs);
        break;
      }
      case "job":
        out(await call("GET", `/api/v1/jobs/${need("a job id")}`), renderJob);
        break;
      case "submit": {
        let params: unknown = {};
        if (values.params) {
          try {
            params = JSON.parse(values.params);
          } catch {
            throw new CliError("--params must be JSON");
          }
        }
        const job = (await call("POST", "/api/v1/jobs", {
          type: need("a job type") && arg,
          params,
          priority: values.priority ? Number(values.priority) : 0,
        })) as { job_id: string };
        if (values.wait) {
          const get = async () => (await call("GET", `/api/v1/jobs/${job.job_id}`)) as { status: string; progress?: number; message?: string | null };
          await watchJob({ base, key, jobId: job.job_id, poll: get });
          const j = await get();
          out(j, renderJob);
          return j.status === "completed" ? 0 : 1;
        }
        out(job, renderJob);
        break;
      }
      case "cancel":
        // A running job answers as it is (still running) while its node stops it: say so, or
        // the operator reads "running" as a refusal.
        out(await call("POST", `/api/v1/jobs/${need("a job id")}/cancel`), (j: Parameters<typeof renderJob>[0]) =>
          j.status === "running" ? `cancel requested: its node is stopping it (farmctl job ${arg} shows when it has)\n${renderJob(j)}` : renderJob(j),
        );
        break;
      case "why":
        out(await call("GET", `/api/v1/jobs/${need("a job id")}/why`), renderWhy);
        break;
      case "drain":
        out(await call("POST", `/api/v1/farm/nodes/${need("a node id")}/drain`), (d) => nodeLine("drained", arg!, d));
        break;
      case "unblock": {
        const q = values.type ? `?type=${encodeURIComponent(values.type)}` : "";
        out(await call("POST", `/api/v1/farm/nodes/${need("a node id")}/unblock${q}`), () => `unblocked ${arg}${values.type ? ` for ${values.type}` : ""}`);
        break;
      }
      case "undrain":
        out(await call("POST", `/api/v1/farm/nodes/${need("a node id")}/undrain`), (d) => nodeLine("undrained", arg!, d));
        break;
      case "watch":
        return await watchFarm({ base, key, once: values.once });
      default:
        process.stderr.write(`farmctl: unknown command '${cmd}'\n\n${HELP}`);
        return 2;
    }
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`farmctl: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

class CliError extends Error {}

/**
 * After drain / undrain: the node's state as the coordinator now holds it. Not the whole
 * answer: its `report` is the agent's last heartbeat, which still says draining: false.
 */
function nodeLine(verb: string, node: string, d: { draining?: boolean; running_jobs?: unknown[] }): string {
  const running = d.running_jobs?.length ?? 0;
  return `${verb} ${node}: ${d.draining ? "draining (takes no new jobs" + (running ? `; ${running} running finish first)` : ")") : "ready (takes new jobs)"}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`farmctl: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
