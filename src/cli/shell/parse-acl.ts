/**
 * zkCli's ACL syntax, `scheme:id:perms[,scheme:id:perms...]` (AclParser): the id is everything
 * between the first and the last colon, so `digest:user:hash:cdrwa` and `auth:user:pw:r` work.
 * Stricter than zkCli, which prints a warning and drops a malformed entry or an unknown perm
 * letter and goes on: here the command fails with that warning as its one line.
 */
import { type ACL, Perms } from "../../index.js";
import { UsageError } from "./errors.js";

const PERM_BITS: Readonly<Record<string, number>> = {
  r: Perms.READ,
  w: Perms.WRITE,
  c: Perms.CREATE,
  d: Perms.DELETE,
  a: Perms.ADMIN,
};

export function parseAcl(text: string): ACL[] {
  return text.split(",").map((entry) => {
    const first = entry.indexOf(":");
    const last = entry.lastIndexOf(":");
    if (first === -1 || first === last) {
      throw new UsageError(`${entry} does not have the form scheme:id:perm`);
    }
    let perms = 0;
    for (const letter of entry.slice(last + 1)) {
      const bit = PERM_BITS[letter];
      if (bit === undefined) throw new UsageError(`Unknown perm type: ${letter}`);
      perms |= bit;
    }
    return { perms, id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) } };
  });
}
