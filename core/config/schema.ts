/**
 * The one config schema. farm.config.yaml + environment overrides are validated
 * against it at start (ajv, defaults applied); a bad config stops with every problem
 * listed. Every key is documented in farm.config.yaml.
 */
export const configSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    mode: { enum: ["embedded", "distributed"], default: "embedded" },
    node_id: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._-]+$" },
    log_level: { enum: ["debug", "info", "warn", "error", "silent"], default: "info" },
    paths: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        data_dir: { type: "string", default: "./data" },
        uploads: { type: "string" },
        outputs: { type: "string" },
        cache: { type: "string" },
        models: { type: "string" },
        state: { type: "string" },
        /** Extra server folders whose files requests may name by path. */
        allowed_input_dirs: { type: "array", items: { type: "string" }, default: [] },
      },
    },
    mesh: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        namespace: { type: "string", default: "nanobanana" },
        transporter: { type: "string", default: "nats://127.0.0.1:4222" },
        request_timeout_ms: { type: "integer", minimum: 100, default: 10000 },
        heartbeat_interval_s: { type: "number", minimum: 0.2, default: 1 },
        heartbeat_timeout_s: { type: "number", minimum: 1, default: 2 },
        // nats-server monitoring URLs (`-m` port): how the coordinator tells a killed agent
        // (its connection is gone: re-queue now) from a stalled one (still connected: its
        // leases decide). Empty: every silent agent waits for its leases (mesh/node-liveness.ts).
        monitor_urls: { type: "array", items: { type: "string", pattern: "^https?://" }, default: [] },
        // Credentials and TLS for the NATS connection (mesh/nats-options.ts). Without them
        // anything that reaches NATS can read every job and join as an agent.
        auth: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            token: { type: "string", minLength: 1 },
            user: { type: "string", minLength: 1 },
            password: { type: "string", minLength: 1 },
            nkey_seed: { type: "string", pattern: "^SU[A-Z2-7]{56}$" },
          },
        },
        tls: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: "boolean", default: false },
            ca_file: { type: "string", minLength: 1 },
            cert_file: { type: "string", minLength: 1 },
            key_file: { type: "string", minLength: 1 },
          },
        },
      },
    },
    redis: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: "string", default: "redis://127.0.0.1:6379" },
        prefix: { type: "string", default: "nb:" },
        require_aof: { type: "boolean", default: true },
      },
    },
    artifacts: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        kind: { enum: ["fs", "s3"] },
        s3: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            endpoint: { type: "string", default: "127.0.0.1" },
            port: { type: "integer", minimum: 1, maximum: 65535, default: 9000 },
            use_ssl: { type: "boolean", default: false },
            access_key: { type: "string", default: "minioadmin" },
            secret_key: { type: "string", default: "minioadmin" },
            bucket: { type: "string", default: "nanobanana" },
            region: { type: "string", default: "us-east-1" },
            part_size_mb: { type: "integer", minimum: 5, default: 64 },
          },
        },
        retention: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            outputs_h: { type: "number", minimum: 0, default: 720 },
            uploads_h: { type: "number", minimum: 0, default: 168 },
            sweep_interval_s: { type: "number", minimum: 1, default: 3600 },
          },
        },
      },
    },
    api: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 8000 },
        body_limit_mb: { type: "number", minimum: 0.01, default: 25 },
        sync_wait_s: { type: "number", minimum: 0, default: 120 },
        cors: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            origins: { type: "array", default: [], items: { type: "string", pattern: "^(\\*|https?://[^/\\s]+)$" } },
            credentials: { type: "boolean", default: false },
            max_age_s: { type: "integer", minimum: 0, maximum: 86400, default: 600 },
          },
        },
        auth: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: "boolean", default: false },
            allow_anonymous: { type: "boolean", default: false },
            keys: {
              type: "array",
              default: [],
              items: {
                type: "object",
                additionalProperties: false,
                required: ["name", "sha256", "scopes"],
                properties: {
                  name: { type: "string", minLength: 1, maxLength: 200 },
                  sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
                  scopes: { type: "array", items: { enum: ["generate", "read", "admin"] }, minItems: 1 },
                  // Webhooks (coordinator/webhooks): this key's default webhook_url and its signing secret.
                  webhook_url: { type: "string", pattern: "^https?://", maxLength: 2048 },
                  webhook_secret: { type: "string", minLength: 16 },
                },
              },
            },
          },
        },
        rate_limits: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: "boolean", default: true },
            window_s: { type: "integer", minimum: 1, default: 60 },
            enhance: { type: "integer", minimum: 1, default: 60 },
            generate_image: { type: "integer", minimum: 1, default: 30 },
            video: { type: "integer", minimum: 1, default: 10 },
            suno: { type: "integer", minimum: 1, default: 10 },
            default: { type: "integer", minimum: 1, default: 600 },
          },
        },
        inputs: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            allow_http: { type: "boolean", default: false },
            allow_private_addresses: { type: "boolean", default: false },
            max_image_mb: { type: "number", default: 30 },
            max_audio_mb: { type: "number", default: 200 },
            max_video_mb: { type: "number", default: 1024 },
            max_image_pixels: { type: "integer", default: 100000000 },
            fetch_timeout_ms: { type: "integer", minimum: 100, default: 30000 },
          },
        },
        // Output links in results are signed and expire (api/output-links.ts).
        outputs: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            link_secret: { type: "string", minLength: 32 },
            link_ttl_s: { type: "integer", minimum: 60, default: 86400 },
          },
        },
      },
    },
    coordinator: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        lease_ms: { type: "integer", minimum: 500, default: 30000 },
        max_attempts: { type: "integer", minimum: 1, maximum: 20, default: 3 },
        blocklist_threshold: { type: "integer", minimum: 1, default: 3 },
        sweep_interval_ms: { type: "integer", minimum: 50, default: 1000 },
        job_retention_h: { type: "number", minimum: 0, default: 168 },
        retry_backoff_ms: { type: "integer", minimum: 0, default: 1000 },
        retry_backoff_max_ms: { type: "integer", minimum: 0, default: 60000 },
        // A job lost on a node (killed agent, lease expired, retryable failure) prefers other
        // nodes; it waits at most this long for a busy one before a free node it failed on
        // (a restarted agent, typically) may run it again. Bounded so that one kill does not
        // leave its jobs queued behind the survivors' work while the restarted agent idles.
        failed_node_wait_ms: { type: "integer", minimum: 0, default: 1500 },
        // High availability (distributed mode): coordinators elect one leader through a lease
        // in Redis (coordinator/leader-*.ts). A standby takes over within lease_ms + renew_ms.
        leader: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: "boolean", default: true },
            lease_ms: { type: "integer", minimum: 1000, default: 3000 },
            renew_ms: { type: "integer", minimum: 100, default: 500 },
          },
        },
      },
    },
    // Prometheus /metrics on the API (api/metrics, core/metrics).
    metrics: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: { enabled: { type: "boolean", default: true } },
    },
    // Signed job webhooks, delivered by the coordinator (coordinator/webhooks).
    webhooks: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        secret: { type: "string", minLength: 16 },
        allow_private_addresses: { type: "boolean", default: false },
        max_attempts: { type: "integer", minimum: 1, maximum: 30, default: 8 },
        retry_base_ms: { type: "integer", minimum: 10, default: 2000 },
        retry_max_ms: { type: "integer", minimum: 10, default: 600000 },
        timeout_ms: { type: "integer", minimum: 100, default: 10000 },
        resume_scan_max: { type: "integer", minimum: 0, default: 10000 },
      },
    },
    agent: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        plugins: { type: "array", items: { type: "string" }, default: ["*"] },
        gpu_probe: { enum: ["auto", "nvidia-smi", "none", "simulated"], default: "auto" },
        simulated_gpus: {
          type: "array",
          default: [],
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "vram_mb"],
            properties: { name: { type: "string" }, vram_mb: { type: "integer", minimum: 1 } },
          },
        },
        telemetry_interval_ms: { type: "integer", minimum: 100, default: 2000 },
        max_concurrent_jobs: { type: "integer", minimum: 1, default: 2 },
        cancel_grace_ms: { type: "integer", minimum: 0, default: 3000 },
        drain_timeout_ms: { type: "integer", minimum: 0, default: 60000 },
        work_dir: { type: "string" },
      },
    },
    plugins: { type: "object", default: {}, additionalProperties: { type: "object" } },
  },
} as const;

export interface FarmConfig {
  mode: "embedded" | "distributed";
  node_id?: string;
  log_level: "debug" | "info" | "warn" | "error" | "silent";
  paths: {
    data_dir: string;
    uploads: string;
    outputs: string;
    cache: string;
    models: string;
    state: string;
    allowed_input_dirs: string[];
  };
  mesh: {
    namespace: string;
    transporter: string;
    request_timeout_ms: number;
    heartbeat_interval_s: number;
    heartbeat_timeout_s: number;
    monitor_urls: string[];
    /** One of: token; user + password; nkey_seed (the seed `nsc`/`nk -gen user` prints). */
    auth: { token?: string; user?: string; password?: string; nkey_seed?: string };
    /** enabled: TLS to nats-server; ca_file trusts a private CA; cert_file + key_file present a client certificate (server `verify: true`). */
    tls: { enabled: boolean; ca_file?: string; cert_file?: string; key_file?: string };
  };
  /** require_aof: the coordinator refuses a Redis without appendonly (a restart would lose every job). */
  redis: { url: string; prefix: string; require_aof: boolean };
  artifacts: {
    kind: "fs" | "s3";
    s3: { endpoint: string; port: number; use_ssl: boolean; access_key: string; secret_key: string; bucket: string; region: string; part_size_mb: number };
    /** Hours an output / upload is kept (0 = forever); swept by the coordinator every sweep_interval_s. */
    retention: { outputs_h: number; uploads_h: number; sweep_interval_s: number };
  };
  api: {
    host: string;
    port: number;
    body_limit_mb: number;
    sync_wait_s: number;
    cors: { origins: string[]; credentials: boolean; max_age_s: number };
    auth: {
      enabled: boolean;
      allow_anonymous: boolean;
      keys: { name: string; sha256: string; scopes: ("generate" | "read" | "admin")[]; webhook_url?: string; webhook_secret?: string }[];
    };
    rate_limits: { enabled: boolean; window_s: number; enhance: number; generate_image: number; video: number; suno: number; default: number };
    inputs: {
      allow_http: boolean;
      allow_private_addresses: boolean;
      max_image_mb: number;
      max_audio_mb: number;
      max_video_mb: number;
      max_image_pixels: number;
      fetch_timeout_ms: number;
    };
    /** link_secret: HMAC key of output links (every API process of a farm needs the same one; unset: a random one per process). */
    outputs: { link_secret?: string; link_ttl_s: number };
  };
  coordinator: {
    lease_ms: number;
    max_attempts: number;
    blocklist_threshold: number;
    sweep_interval_ms: number;
    job_retention_h: number;
    retry_backoff_ms: number;
    retry_backoff_max_ms: number;
    failed_node_wait_ms: number;
    leader: { enabled: boolean; lease_ms: number; renew_ms: number };
  };
  /** enabled: serve GET /metrics (Prometheus) and keep the metrics. */
  metrics: { enabled: boolean };
  /**
   * secret: farm-wide HMAC key for webhook signatures (a key's webhook_secret wins); without
   * either, webhook_url is refused. Retries: retry_base_ms doubling up to retry_max_ms,
   * max_attempts in all; resume_scan_max: finished jobs a restarted coordinator looks
   * through for deliveries still owed.
   */
  webhooks: {
    secret?: string;
    allow_private_addresses: boolean;
    max_attempts: number;
    retry_base_ms: number;
    retry_max_ms: number;
    timeout_ms: number;
    resume_scan_max: number;
  };
  agent: {
    plugins: string[];
    gpu_probe: "auto" | "nvidia-smi" | "none" | "simulated";
    simulated_gpus: { name: string; vram_mb: number }[];
    telemetry_interval_ms: number;
    max_concurrent_jobs: number;
    cancel_grace_ms: number;
    drain_timeout_ms: number;
    work_dir: string;
  };
  plugins: Record<string, Record<string, unknown>>;
}
