/**
 * Path rules of ZooKeeper's PathUtils.validatePath, checked before anything is sent, and the
 * chroot mapping between the paths a caller sees and the paths the server sees.
 */
import { InvalidArgumentError } from "../protocol/errors.js";

/**
 * Throws InvalidArgumentError unless `path` is a valid znode path. A sequential create may end
 * in "/" (the server appends the counter), so `sequential` allows that.
 */
export function validatePath(path: string, sequential = false): void {
  const fail = (reason: string): never => {
    throw new InvalidArgumentError(`invalid path "${path}": ${reason}`);
  };
  if (typeof path !== "string" || path.length === 0) fail("path must not be empty");
  if (path[0] !== "/") fail("path must start with /");
  // A sequential create of "/" is valid: PathUtils checks "/1", and the server names it "/0000000001".
  if (path.length === 1) return;
  const checked = sequential ? `${path}1` : path;
  if (checked.endsWith("/")) fail("path must not end with /");
  for (const segment of checked.slice(1).split("/")) {
    if (segment === "") fail("empty node name");
    if (segment === "." || segment === "..") fail("relative paths are not allowed");
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (
      c === 0 ||
      (c > 0x00 && c < 0x20) ||
      (c > 0x7e && c < 0xa0) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      c >= 0xfff0
    ) {
      fail(`invalid character \\u${c.toString(16).padStart(4, "0")} at ${i}`);
    }
  }
}

/** The server's path for a caller's path under `chroot` ("" for none). */
export function prependChroot(chroot: string, path: string): string {
  if (chroot === "") return path;
  return path === "/" ? chroot : chroot + path;
}

/** The caller's path for a server path; paths outside the chroot are returned unchanged. */
export function stripChroot(chroot: string, serverPath: string): string {
  if (chroot === "") return serverPath;
  if (serverPath === chroot) return "/";
  if (serverPath.startsWith(`${chroot}/`)) return serverPath.slice(chroot.length);
  return serverPath;
}
