/**
 * The server side of SASL DIGEST-MD5 (RFC 2831), as Java's DigestMD5Server runs it for
 * ZooKeeper: protocol "zookeeper", server name "zk-sasl-md5" (ZooKeeperSaslServer), so the
 * realm offered is "zk-sasl-md5" and the client's digest-uri must be "zookeeper/zk-sasl-md5".
 * Only qop "auth" (authentication, no integrity or privacy layer), as ZooKeeper uses it.
 *
 * A session is two steps: an empty token gets the challenge; the client's digest-response
 * gets "rspauth=..." and completes the exchange, or a DigestMd5Error.
 */
import { createHash, randomBytes } from "node:crypto";

/** An exchange that cannot complete: ZooKeeper answers it with AUTHFAILED. */
export class DigestMd5Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DigestMd5Error";
  }
}

export interface DigestMd5ServerOptions {
  /** The password of a user, or undefined for an unknown user. */
  readonly password: (username: string) => string | undefined;
  readonly protocol?: string;
  readonly serverName?: string;
  /** A fixed nonce, for tests; a fresh random one otherwise. */
  readonly nonce?: string;
}

/** One DIGEST-MD5 exchange on one connection. */
export class DigestMd5Server {
  private readonly options: DigestMd5ServerOptions;
  private readonly realm: string;
  private readonly digestUri: string;
  private readonly nonce: string;
  private step: "initial" | "challenged" | "complete" = "initial";
  private authorizationId: string | undefined;

  constructor(options: DigestMd5ServerOptions) {
    this.options = options;
    const serverName = options.serverName ?? "zk-sasl-md5";
    this.realm = serverName;
    this.digestUri = `${options.protocol ?? "zookeeper"}/${serverName}`;
    this.nonce = options.nonce ?? randomBytes(24).toString("base64");
  }

  get isComplete(): boolean {
    return this.step === "complete";
  }

  /** The authenticated user once complete (ZooKeeper's sasl id before canonicalization). */
  get authenticatedId(): string | undefined {
    return this.authorizationId;
  }

  /** The server's answer to a client token; throws DigestMd5Error when it cannot accept it. */
  evaluate(token: Buffer): Buffer {
    if (this.step === "initial") {
      this.step = "challenged";
      return Buffer.from(this.challenge(), "utf8");
    }
    if (this.step === "complete") throw new DigestMd5Error("exchange already complete");
    const rspauth = this.verify(parseDirectives(token.toString("utf8")));
    this.step = "complete";
    return Buffer.from(`rspauth=${rspauth}`, "utf8");
  }

  private challenge(): string {
    return `realm="${this.realm}",nonce="${this.nonce}",qop="auth",charset=utf-8,algorithm=md5-sess`;
  }

  /** Checks a digest-response (RFC 2831 §2.1.2) and returns the rspauth value (§2.1.3). */
  private verify(d: Map<string, string>): string {
    const username = required(d, "username");
    const cnonce = required(d, "cnonce");
    const nc = required(d, "nc");
    const digestUri = required(d, "digest-uri");
    const response = required(d, "response");
    const realm = d.get("realm") ?? this.realm;
    const qop = d.get("qop") ?? "auth";
    const authzid = d.get("authzid");
    if (required(d, "nonce") !== this.nonce) throw new DigestMd5Error("nonce mismatch");
    if (realm !== this.realm) throw new DigestMd5Error(`unknown realm "${realm}"`);
    if (qop !== "auth") throw new DigestMd5Error(`qop "${qop}" not offered`);
    if (nc !== "00000001") throw new DigestMd5Error(`nonce count ${nc} is not 00000001`);
    if (digestUri.toLowerCase() !== this.digestUri.toLowerCase()) {
      throw new DigestMd5Error(`digest-uri "${digestUri}" is not "${this.digestUri}"`);
    }
    const password = this.options.password(username);
    if (password === undefined) throw new DigestMd5Error(`unknown user "${username}"`);
    const values = { username, realm, password, nonce: this.nonce, cnonce, nc, qop, digestUri };
    const ha1 = digestHa1({ ...values, ...(authzid !== undefined && { authzid }) });
    if (responseValue(ha1, values, "AUTHENTICATE") !== response.toLowerCase()) {
      throw new DigestMd5Error("digest response does not match: wrong password");
    }
    this.authorizationId = username;
    return responseValue(ha1, values, "");
  }
}

interface DigestValues {
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

function required(d: Map<string, string>, name: string): string {
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
