/**
 * Production entry point for one role (or several): `node --import tsx deploy/role.ts agent`.
 * Same launcher as `npm start` (cli/farm.ts); exits 78 on a bad config so systemd does not loop.
 */
import "../cli/farm.ts";
