// Resolve hook (node:module register): core/logger.ts -> bench/logger-baseline/json-logger.ts.
const target = new URL("./json-logger.ts", import.meta.url).href;

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  return r.url.endsWith("/core/logger.ts") ? { ...r, url: target } : r;
}
