/**
 * ZooKeeper's path rules (PathUtils.validatePath), shared by the client (checked before
 * sending) and the server (checked before a write becomes a txn).
 */
import { InvalidArgumentError } from "./errors.js";

/**
 * Throws InvalidArgumentError unless `path` is a valid znode path. A sequential create may end
 * in "/" (the server appends the counter), so `sequential` allows that.
 */
export function validatePath(path: string, sequential = false): void {
  if (typeof path !== "string" || path.length === 0) invalid(path, "path must not be empty");
  if (path.charCodeAt(0) !== SLASH) invalid(path, "path must start with /");
  // A sequential create of "/" is valid: PathUtils checks "/1", and the server names it "/0000000001".
  if (path.length === 1) return;
  // One pass over the characters (this runs on every call): segment rules and forbidden ones.
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : SLASH;
    if (c === SLASH) {
      const length = i - segmentStart;
      const atEnd = i === path.length;
      // The server appends the counter to a sequential path's last name, so "/a/" and "/a/."
      // become "/a/0000000001" and "/a/.0000000001": both fine.
      if (!(atEnd && sequential)) {
        if (length === 0) invalid(path, atEnd ? "path must not end with /" : "empty node name");
        if (isDots(path, segmentStart, length)) invalid(path, "relative paths are not allowed");
      }
      segmentStart = i + 1;
    } else if (c < 0x20 || (c > 0x7e && c < 0xa0) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      invalid(path, `invalid character \\u${c.toString(16).padStart(4, "0")} at ${i}`);
    }
  }
}

const SLASH = 0x2f;
const DOT = 0x2e;

function isDots(path: string, start: number, length: number): boolean {
  if (length === 1) return path.charCodeAt(start) === DOT;
  return length === 2 && path.charCodeAt(start) === DOT && path.charCodeAt(start + 1) === DOT;
}

function invalid(path: string, reason: string): never {
  throw new InvalidArgumentError(`invalid path "${path}": ${reason}`);
}
