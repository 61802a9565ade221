/**
 * The suite runs on vitest: forked workers (each test file in its own process, with its
 * own real redis-server / nats-server / s3rver started in its hooks), two at a time
 * because the CI machine has two cores and the e2e files start several processes each.
 * Coverage (v8) is collected when `--coverage` is passed (scripts/test.sh does); the
 * floors below are the ones CI enforces.
 */
import { defineConfig } from "vitest/config";

const FLOOR = { lines: 85 };

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    // Generous: e2e files build a distributed farm on a loaded 2-core machine. Speed is
    // measured by `npm run bench`, never by test timeouts.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    coverage: {
      provider: "v8",
      include: ["api/**/*.ts", "coordinator/**/*.ts", "core/**/*.ts", "node-agent/**/*.ts", "mesh/**/*.ts", "plugins/**/*.ts", "cli/**/*.ts"],
      // Browser code: it runs in chromium (test/e2e/dashboard.test.ts), where node's v8 cannot see it.
      exclude: ["api/dashboard/ui/**"],
      reporter: process.env.COVERAGE_HTML ? ["json-summary", "html"] : ["json-summary"],
      reportsDirectory: "coverage",
      // The table is printed even when a test fails, so a red run still shows what it walked.
      reportOnFailure: true,
      thresholds: {
        "api/**": FLOOR,
        "coordinator/**": FLOOR,
        "core/**": FLOOR,
        "node-agent/**": FLOOR,
      },
    },
  },
});
