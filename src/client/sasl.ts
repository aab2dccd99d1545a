/**
 * The client's SASL DIGEST-MD5 exchange, as ZooKeeper's Java client runs it right after each
 * connect (ZooKeeperSaslClient): an empty token, the server's challenge, our digest-response,
 * the server's rspauth, which we check so that a server that does not know the password cannot
 * pass for one that does.
 */
import { randomBytes } from "node:crypto";
import { DigestMd5Error, digestMd5Response, parseDirectives } from "../protocol/digest-md5.js";
import { AuthFailedError } from "../protocol/errors.js";

/** A user of the server's JAAS "Server" section (DigestLoginModule user_<name>). */
export interface SaslCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Runs one exchange over `send` (one sasl request, resolving with the server's token).
 * Rejects with AuthFailedError when the server's answers do not check out, or with whatever
 * `send` rejects with (the server's AUTHFAILED, a lost connection).
 */
export async function saslDigestMd5(
  send: (token: Buffer) => Promise<Buffer>,
  credentials: SaslCredentials,
): Promise<void> {
  const challenge = await send(Buffer.alloc(0));
  let step: ReturnType<typeof digestMd5Response>;
  try {
    step = digestMd5Response(challenge.toString("utf8"), {
      ...credentials,
      cnonce: randomBytes(24).toString("base64"),
    });
  } catch (error) {
    if (error instanceof DigestMd5Error) throw new AuthFailedError(undefined, { cause: error });
    throw error;
  }
  const final = await send(Buffer.from(step.response, "utf8"));
  let rspauth: string | undefined;
  try {
    rspauth = parseDirectives(final.toString("utf8")).get("rspauth");
  } catch {
    rspauth = undefined;
  }
  if (rspauth !== step.rspauth) {
    throw new AuthFailedError(undefined, {
      cause: new Error("the server's rspauth does not prove it knows the password"),
    });
  }
}
