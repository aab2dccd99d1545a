/**
 * The server side of SASL DIGEST-MD5 (RFC 2831), as Java's DigestMD5Server runs it for
 * ZooKeeper: it offers the realm "zk-sasl-md5" and wants the digest-uri
 * "zookeeper/zk-sasl-md5" (protocol/digest-md5.ts has the shared digests).
 *
 * An exchange is two steps: an empty token gets the challenge; the client's digest-response
 * gets "rspauth=..." and completes the exchange, or a DigestMd5Error.
 */
import { randomBytes } from "node:crypto";
import {
  DigestMd5Error,
  digestHa1,
  parseDirectives,
  required,
  responseValue,
  ZOOKEEPER_SASL_PROTOCOL,
  ZOOKEEPER_SASL_SERVER_NAME,
} from "../../protocol/digest-md5.js";

export interface DigestMd5ServerOptions {
  /** The password of a user, or undefined for an unknown user. */
  readonly password: (username: string) => string | undefined;
  /**
   * The authorized id of an authenticated user (the JAAS callback's AuthorizeCallback), or
   * null to refuse it; the user name itself by default.
   */
  readonly authorize?: (username: string) => string | null;
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
    const serverName = options.serverName ?? ZOOKEEPER_SASL_SERVER_NAME;
    this.realm = serverName;
    this.digestUri = `${options.protocol ?? ZOOKEEPER_SASL_PROTOCOL}/${serverName}`;
    this.nonce = options.nonce ?? randomBytes(24).toString("base64");
  }

  get isComplete(): boolean {
    return this.step === "complete";
  }

  /** The authorized id once complete: ZooKeeper's sasl id. */
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
    const authorize = this.options.authorize;
    const authorized = authorize === undefined ? username : authorize(username);
    if (authorized === null) throw new DigestMd5Error(`"${username}" is not authorized`);
    this.authorizationId = authorized;
    return responseValue(ha1, values, "");
  }
}
