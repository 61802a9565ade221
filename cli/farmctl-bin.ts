/** Entry point of the standalone farmctl package (scripts/pack-farmctl.ts bundles it). */
import { main } from "./farmctl.ts";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`farmctl: ${String(err)}\n`);
    process.exit(1);
  },
);
