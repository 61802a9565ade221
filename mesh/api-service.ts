/**
 * The API role on the mesh: a FarmClient that calls the coordinator service, and a
 * Moleculer service (group "api") that receives job events for local WebSocket
 * clients and sync waits.
 */
import type { ServiceSchema, Context } from "moleculer";
import type { Broker } from "./broker.ts";
import { JobEventBus, type FarmClient, type JobListFilter } from "../api/farm-client.ts";
import type { JobEvent, JobRecord, SubmitJobInput } from "../core/job.ts";
import { toFarmError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { TickBatcher } from "./tick-batch.ts";

export class MeshFarmClient implements FarmClient {
  readonly events = new JobEventBus();
  /** Submits made within one turn go to the coordinator as one `submitMany`. */
  private readonly submits: TickBatcher<SubmitJobInput, JobRecord>;
  constructor(private readonly broker: Broker) {
    this.submits = new TickBatcher((items) => this.broker.call("coordinator.submitMany", { items }));
  }

  private async call<T>(action: string, params: object = {}): Promise<T> {
    try {
      return (await this.broker.call(action, params)) as T;
    } catch (err) {
      throw toFarmError(err);
    }
  }

  submit(input: SubmitJobInput) {
    return this.submits.add(input);
  }
  get(id: string) {
    return this.call<JobRecord>("coordinator.get", { id });
  }
  list(filter: JobListFilter) {
    return this.call<{ jobs: JobRecord[]; total: number }>("coordinator.list", filter);
  }
  cancel(id: string) {
    return this.call<JobRecord>("coordinator.cancel", { id });
  }
  why(id: string) {
    return this.call<Record<string, unknown>>("coordinator.why", { id });
  }
  status() {
    return this.call<Record<string, unknown>>("coordinator.status");
  }
  nodes() {
    return this.call<Record<string, unknown>[]>("coordinator.nodes");
  }
  drain(nodeId: string) {
    return this.call<Record<string, unknown>>("coordinator.drain", { node_id: nodeId });
  }
  undrain(nodeId: string) {
    return this.call<Record<string, unknown>>("coordinator.undrain", { node_id: nodeId });
  }
  unblock(nodeId: string, type?: string) {
    return this.call<Record<string, unknown>>("coordinator.unblock", { node_id: nodeId, ...(type ? { type } : {}) });
  }
}

export function apiEventService(client: MeshFarmClient, logger: Logger): ServiceSchema {
  return {
    name: "api",
    events: {
      // The coordinator sends the events of one turn together (tick-batch.ts).
      "job.events"(ctx: Context<unknown>) {
        const { events } = ctx.params as { events: JobEvent[] };
        for (const e of events) {
          // One listener's failure must not cost the other events of the batch.
          try {
            client.events.emit(e);
          } catch (err) {
            logger.warn("job event listener failed", { job_id: e.job_id, error: String(err) });
          }
        }
      },
    },
  };
}
