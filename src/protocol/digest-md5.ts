/**
 * SASL DIGEST-MD5 (RFC 2831) as ZooKeeper uses it, shared by our server and our client: the
 * digests, the directive syntax, and the client's step. ZooKeeper's SASL names are protocol
 * "zookeeper" and server name "zk-sasl-md5" (ZooKeeperSaslServer, ZooKeeperSaslClient), so the
 * realm is "zk-sasl-md5" and the digest-uri "zookeeper/zk-sasl-md5". Only qop "auth"
 * (authentication, no integrity or privacy layer).
 */
import { createHash } from "node:crypto";

export const ZOOKEEPER_SASL_PROTOCOL = "zookeeper";
export const ZOOKEEPER_SASL_SERVER_NAME = "zk-sasl-md5";

/** An exchange that cannot complete: ZooKeeper answers it with AUTHFAILED. */
export class DigestMd5Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DigestMd5Error";
  }
}

export interface DigestValues {
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly nonce: string;
  readonly cnonce: string;
  readonly nc: string;
  readonly qop: string;
  readonly digestUri: string;
  readonly authzid?: string;
}

/**
 * HEX(H(A1)) for md5-sess: A1 = H(username:realm:password):nonce:cnonce[:authzid]. With
 * charset=utf-8, RFC 2831 has names and password in ISO 8859-1 when they fit in it.
 */
export function digestHa1(v: DigestValues): string {
  const secret = createHash("md5")
    .update(textBytes(`${v.username}:${v.realm}:${v.password}`))
    .digest();
  const tail = `:${v.nonce}:${v.cnonce}${v.authzid !== undefined ? `:${v.authzid}` : ""}`;
  return md5Hex(Buffer.concat([secret, Buffer.from(tail, "utf8")]));
}

/** The response value (method "AUTHENTICATE") or the rspauth value (method ""). */
export function responseValue(ha1: string, v: DigestValues, method: string): string {
  const ha2 = md5Hex(Buffer.from(`${method}:${v.digestUri}`, "utf8"));
  return md5Hex(Buffer.from(`${ha1}:${v.nonce}:${v.nc}:${v.cnonce}:${v.qop}:${ha2}`, "utf8"));
}

function md5Hex(data: Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

function textBytes(text: string): Buffer {
  for (const ch of text) if ((ch.codePointAt(0) ?? 0) > 0xff) return Buffer.from(text, "utf8");
  return Buffer.from(text, "latin1");
}

export function required(d: Map<string, string>, name: string): string {
  const value = d.get(name);
  if (value === undefined) throw new DigestMd5Error(`digest-response lacks ${name}`);
  return value;
}

/**
 * RFC 2831's `1#( name "=" ( token | quoted-string ) )`: a backslash in a quoted string
 * escapes the next character. A repeated directive is refused, as RFC 2831 says.
 */
export function parseDirectives(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skip = () => {
    while (i < text.length && /[\s,]/.test(text[i] as string)) i++;
  };
  skip();
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new DigestMd5Error("malformed digest directive");
    const name = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++;
        value += text[i] ?? "";
        i++;
      }
      if (text[i] !== '"') throw new DigestMd5Error("unterminated quoted string");
      i++;
    } else {
      const end = text.indexOf(",", i);
      value = text.slice(i, end < 0 ? text.length : end).trim();
      i = end < 0 ? text.length : end;
    }
    if (out.has(name)) throw new DigestMd5Error(`repeated directive ${name}`);
    out.set(name, value);
    skip();
  }
  return out;
}

/**
 * The client's digest-response to a server challenge (RFC 2831 §2.1.2), in the directive order
 * Java's DigestMD5Client writes, and the rspauth value the server must answer with.
 */
export function digestMd5Response(
  challengeText: string,
  credentials: { readonly username: string; readonly password: string; readonly cnonce: string },
): { readonly response: string; readonly rspauth: string } {
  const challenge = parseDirectives(challengeText);
  const nonce = challenge.get("nonce");
  if (nonce === undefined) throw new DigestMd5Error("challenge lacks a nonce");
  const qops = (challenge.get("qop") ?? "auth").split(",").map((q) => q.trim());
  if (!qops.includes("auth")) throw new DigestMd5Error(`server offers no qop auth: ${qops}`);
  const values: DigestValues = {
    username: credentials.username,
    realm: challenge.get("realm") ?? "",
    password: credentials.password,
    nonce,
    cnonce: credentials.cnonce,
    nc: "00000001",
    qop: "auth",
    digestUri: `${ZOOKEEPER_SASL_PROTOCOL}/${ZOOKEEPER_SASL_SERVER_NAME}`,
  };
  const ha1 = digestHa1(values);
  const response =
    `charset=utf-8,username=${quote(values.username)},realm=${quote(values.realm)},` +
    `nonce=${quote(nonce)},nc=${values.nc},cnonce=${quote(values.cnonce)},` +
    `digest-uri=${quote(values.digestUri)},maxbuf=65536,` +
    `response=${responseValue(ha1, values, "AUTHENTICATE")},qop=auth`;
  return { response, rspauth: responseValue(ha1, values, "") };
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}
