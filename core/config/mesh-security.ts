/**
 * Checks across `mesh.auth` / `mesh.tls` keys that the JSON schema cannot express, so a
 * half-configured mesh stops at start with the problem named instead of failing to
 * connect (and retrying forever) later.
 */
import fs from "node:fs";
import type { FarmConfig } from "./schema.ts";

export function meshSecurityProblems(mesh: Pick<FarmConfig["mesh"], "auth" | "tls">): string[] {
  const problems: string[] = [];
  const a = mesh.auth;
  const kinds = [a.token !== undefined && "token", a.user !== undefined && "user", a.nkey_seed !== undefined && "nkey_seed"].filter(Boolean);
  if (kinds.length > 1) problems.push(`mesh.auth: set one of token, user + password or nkey_seed, not ${kinds.join(" and ")}`);
  if (a.user !== undefined && a.password === undefined) problems.push("mesh.auth.password: required with mesh.auth.user");
  if (a.password !== undefined && a.user === undefined) problems.push("mesh.auth.user: required with mesh.auth.password");
  const t = mesh.tls;
  if (!t.enabled && (t.ca_file ?? t.cert_file ?? t.key_file) !== undefined) problems.push("mesh.tls.enabled: must be true when TLS files are set");
  if ((t.cert_file === undefined) !== (t.key_file === undefined)) problems.push("mesh.tls: cert_file and key_file go together");
  for (const k of ["ca_file", "cert_file", "key_file"] as const) {
    const f = t[k];
    if (t.enabled && f !== undefined && !fs.existsSync(f)) problems.push(`mesh.tls.${k}: file ${f} does not exist`);
  }
  return problems;
}
