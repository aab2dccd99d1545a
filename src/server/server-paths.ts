/** PathUtils.validatePath on the server: the same rules the client checks before sending. */
import { validatePath } from "../protocol/paths.js";

export function isValidServerPath(path: string): boolean {
  try {
    validatePath(path);
    return true;
  } catch {
    return false;
  }
}
