/**
 * ZooKeeperServer.processSasl and AuthenticationHelper.enforceAuthentication as pure decisions:
 * the server shell sends what they return. One DIGEST-MD5 exchange per connection.
 */
import { NULL_BUFFER } from "../../jute/index.js";
import type { Id } from "../../jute/records.js";
import { DigestMd5Error } from "../../protocol/digest-md5.js";
import { ErrorCode } from "../../protocol/errors.js";
import { DigestMd5Server } from "./digest-md5.js";
import type { SaslSettings } from "./settings.js";

/**
 * What to answer a sasl packet: err 0 and the server's token (with the ids to add once the
 * exchange completes), or err AUTHFAILED / SESSIONCLOSEDREQUIRESASLAUTH with a null token,
 * after which the connection is closed.
 */
export type SaslAnswer =
  | { readonly err: 0; readonly token: Buffer; readonly ids: readonly Id[] }
  | { readonly err: number; readonly token: null; readonly reason: string };

export class SaslExchanges {
  private readonly settings: SaslSettings;
  private readonly servers = new WeakMap<object, DigestMd5Server>();

  constructor(settings: SaslSettings) {
    this.settings = settings;
  }

  /** Evaluates one client token of the connection `cnxn`. */
  evaluate(cnxn: object, token: Buffer): SaslAnswer {
    const users = this.settings.users;
    // ZooKeeper without a JAAS "Server" section has no SaslServer: it logs the
    // NullPointerException and answers OK with a null token.
    if (users === undefined) return { err: 0, token: NULL_BUFFER, ids: [] };
    let server = this.servers.get(cnxn);
    if (server === undefined) {
      server = new DigestMd5Server({ password: (user) => users.get(user) });
      this.servers.set(cnxn, server);
    }
    try {
      const answer = server.evaluate(token);
      const id = server.isComplete ? server.authenticatedId : undefined;
      return { err: 0, token: answer, ids: id === undefined ? [] : this.idsOf(id) };
    } catch (error) {
      if (!(error instanceof DigestMd5Error)) throw error;
      const err = this.settings.saslAuthRequired
        ? ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH
        : ErrorCode.AUTHFAILED;
      return { err, token: null, reason: error.message };
    }
  }

  /**
   * AuthenticationHelper.enforceAuthentication: true when the connection may go on, false
   * when it must be answered SESSIONCLOSEDREQUIRESASLAUTH and closed.
   */
  mayProceed(ids: readonly Id[]): boolean {
    const schemes = this.settings.enforceAuthSchemes;
    return schemes.length === 0 || ids.some((id) => schemes.includes(id.scheme));
  }

  /**
   * The authorization id: SaslServerCallbackHandler canonicalizes it as a Kerberos name, which
   * leaves a DIGEST-MD5 user name (no "/host", no "@REALM") as it is.
   */
  private idsOf(user: string): Id[] {
    const ids: Id[] = [{ scheme: "sasl", id: user }];
    if (this.settings.superUser === user) ids.push({ scheme: "super", id: "" });
    return ids;
  }
}
