/** The chroot mapping between the paths a caller sees and the paths the server sees. */
export { validatePath } from "../protocol/paths.js";

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
