/**
 * Session passwords exactly as Apache ZooKeeper makes them (ZooKeeperServer.generatePasswd):
 * 16 bytes of `new java.util.Random(sessionId ^ superSecret).nextBytes`. The password is a
 * checksum a client presents when it reconnects to resume its session, not a secret (ZooKeeper
 * says as much), so reproducing it keeps ZooKeeper's behaviour and lets a session move between
 * zkts and ZooKeeper servers of one ensemble.
 */
import { JavaRandom } from "./java-random.js";

/** ZooKeeperServer.superSecret: the Java long 0XB3415C00L (positive; only the low 32 bits). */
export const SUPER_SECRET = 0xb3415c00n;

/** The length of the password in ConnectResponse.passwd. */
export const SESSION_PASSWORD_LENGTH = 16;

/** The password ZooKeeper would hand out for `sessionId` (a Java long, as a bigint). */
export function sessionPassword(sessionId: bigint): Buffer {
  const password = Buffer.alloc(SESSION_PASSWORD_LENGTH);
  new JavaRandom(sessionId ^ SUPER_SECRET).nextBytes(password);
  return password;
}

/**
 * ZooKeeperServer.checkPasswd: session id 0 never matches, otherwise the bytes must equal the
 * generated password (length included).
 */
export function checkSessionPassword(sessionId: bigint, password: Uint8Array): boolean {
  return sessionId !== 0n && sessionPassword(sessionId).equals(password);
}
