/**
 * The operator dashboard: `GET /` (the page), its script and style, and `WS /ws/farm`, the
 * one live feed a page opens (see protocol.ts). The page holds no data until the feed's
 * upgrade is authenticated with the same API keys as the API (`?api_key=` is accepted on
 * WebSocket upgrades only); admin controls call the existing admin routes, which check the
 * key's scope again.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { WebSocket } from "ws";
import type { ApiDeps } from "../deps.ts";
import { systemClock } from "../../core/clock.ts";
import { FarmFeed, type OwnerScope, type Snapshot } from "./feed.ts";
import { FrameDiffer, isEmptyFrame, parseView } from "./frames.ts";
import type { Frame, GalleryItem, Hello } from "./protocol.ts";
import type { OutputLinks } from "../output-links.ts";
import { appScript, staticFile, type Asset } from "./assets.ts";

/** The page only talks to this origin; media are shown from blob: URLs (fetched with the key). */
const CSP =
  "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A dashboard whose socket holds this much unsent data is slow; it skips frames until it drains. */
const MAX_BUFFERED = 1 << 20;
/** A quiet farm still gets an (empty) frame this often, so the page can say its data is current. */
const KEEPALIVE_MS = 5000;

export interface DashboardOptions {
  tickMs?: number;
}

export async function dashboardRoutes(app: FastifyInstance, deps: ApiDeps, opts: DashboardOptions = {}): Promise<FarmFeed> {
  const feed = new FarmFeed(deps.farm, systemClock, deps.logger, { tickMs: opts.tickMs });
  const send = async (reply: FastifyReply, asset: Promise<Asset>) => {
    const a = await asset;
    return reply
      .header("content-type", a.type)
      .header("cache-control", "no-cache")
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .send(a.body);
  };
  const page = { config: { scope: null }, schema: { hide: true } } as const;
  const linkPeriodMs = signingPeriodMs(deps.config.api.outputs.link_ttl_s);
  app.get("/", page, (_req, reply) => send(reply, staticFile("index.html")));
  app.get("/dashboard/app.js", page, (_req, reply) => send(reply, appScript()));
  app.get("/dashboard/app.css", page, (_req, reply) => send(reply, staticFile("app.css")));

  app.get(
    "/ws/farm",
    {
      websocket: true,
      config: { scope: "read" },
      schema: {
        tags: ["farm"],
        summary: "Live farm feed for the dashboard (WebSocket)",
        description:
          "One socket per open dashboard (auth: header, or ?api_key= on the upgrade). The server sends {t:'hello'} then {t:'frame'} messages once per tick with aggregates and, for the nodes / running / recent lists, only the rows inside the window the client asked for with {t:'view', view:{nodes:[offset,limit],...}} and only those that changed. See api/dashboard/protocol.ts.",
        querystring: { type: "object", properties: { api_key: { type: "string" } } },
      },
    },
    (socket: WebSocket, req) => {
      const p = req.principal;
      const admin = p.scopes.has("admin");
      const scope: OwnerScope = admin ? { all: true } : { all: false, owner: p.anonymous ? null : p.name };
      const differ = new FrameDiffer();
      let closed = false;
      let building = false;
      let again = false;
      let lastSent = 0;
      const hello: Hello = { t: "hello", principal: p.name, admin, tick_ms: feed.tickMs };
      socket.send(JSON.stringify(hello));

      const push = async (s: Snapshot) => {
        if (closed) return;
        if (building) {
          again = true;
          return;
        }
        if (socket.bufferedAmount > MAX_BUFFERED) return;
        building = true;
        try {
          const frame = await buildFrame(feed, s, scope, differ, app.outputLinks, linkPeriodMs);
          if (closed || socket.readyState !== socket.OPEN) return;
          const now = Date.now();
          if (isEmptyFrame(frame) && now - lastSent < KEEPALIVE_MS) return;
          lastSent = now;
          // Gallery paths become signed links (api/output-links.ts): the browser's <img> sends no key.
          socket.send(JSON.stringify(app.outputLinks.signAll(frame)));
        } catch (err) {
          deps.logger.warn("dashboard: building a frame failed", { err: String(err) });
        } finally {
          building = false;
          if (again) {
            again = false;
            void feed.current().then(push);
          }
        }
      };
      const unsubscribe = feed.subscribe((s) => void push(s));
      const close = () => {
        closed = true;
        unsubscribe();
      };
      socket.on("close", close);
      socket.on("error", close);
      socket.on("message", (raw) => {
        let msg: unknown;
        try {
          msg = JSON.parse(String(raw));
        } catch {
          return;
        }
        const view = parseView(msg);
        if (!view) return;
        differ.setWindows(view);
        void feed.current().then(push); // answer a scroll now, not at the next tick
      });
      // The first frame needs both; asked together, a new page waits for one round trip less.
      void Promise.all([feed.current(), feed.recentFor(scope)]).then(([s]) => push(s));
    },
  );
  return feed;
}

/**
 * Links are signed as of the start of a period (a tenth of their lifetime, at most an hour),
 * so each stays valid for at least 90 % of it: a fresh signature every frame would resend
 * the gallery every second.
 */
const signingPeriodMs = (ttlS: number) => Math.min(3600, Math.max(1, Math.floor(ttlS / 10))) * 1000;

async function buildFrame(feed: FarmFeed, s: Snapshot, scope: OwnerScope, d: FrameDiffer, links: OutputLinks, periodMs: number): Promise<Frame> {
  const recent = await feed.recentFor(scope);
  const f: Frame = { t: "frame", at: s.at };
  const put = <K extends keyof Frame>(k: K, v: Frame[K] | undefined) => {
    if (v !== undefined) f[k] = v;
  };
  put("problem", d.section("problem", s.problem));
  put("totals", d.fields(s.totals));
  put("queue", d.section("queue", s.queue));
  put("nodes", d.list("nodes", s.nodes));
  put("running", d.list("running", feed.runningRows(s, scope)));
  put("recent", d.list("recent", recent.rows));
  // As in every answer of the API: outputs go out as signed, expiring links (api/output-links.ts),
  // here only to a dashboard whose key may read those jobs (recent.gallery is per scope).
  const signedAt = Math.floor(Date.now() / periodMs) * periodMs;
  put(
    "gallery",
    d.section(
      "gallery",
      recent.gallery.map((g): GalleryItem => ({ ...g, url: links.signAll(g.url, signedAt) })),
    ),
  );
  return f;
}
