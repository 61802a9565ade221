/** Folder containment on normalised absolute paths, shared by every check that keeps a path inside a root. */
import path from "node:path";

/**
 * Whether `p` is `root` or lies below it. Both must be absolute and normalised (path.resolve,
 * or realpath for the symlink-resolved check); a root that ends in a separator ("/") works too.
 * A plain startsWith(root) would let "/data2" pass for "/data".
 */
export const isInside = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
