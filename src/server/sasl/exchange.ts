/**
 * ZooKeeperServer.processSasl and AuthenticationHelper.enforceAuthentication as pure decisions:
 * the server shell sends what they return. One DIGEST-MD5 exchange per connection.
 */
import { NULL_BUFFER } from "../../jute/index.js";
import type { Id } from "../../jute/records.js";
import { DigestMd5Error } from "../../protocol/digest-md5.js";
import { ErrorCode } from "../../protocol/errors.js";
import { DigestMd5Server } from "./digest-md5.js";
import { authorizedId } from "./kerberos-name.js";
import type { SaslSettings } from "./settings.js";

/**
 * What to answer a sasl packet: err 0 and the server's token (with the ids to add once the
 * exchange completes); err 0 and a null token for a failure that allowSaslFailedClients lets
 * pass (`reason` says why, the connection stays); or err AUTHFAILED /
 * SESSIONCLOSEDREQUIRESASLAUTH with a null token, after which the connection is closed.
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
      const rules = this.settings.principalRules;
      server = new DigestMd5Server({
        password: (user) => users.get(user),
        authorize: (user) => authorizedId(user, rules),
      });
      this.servers.set(cnxn, server);
    }
    try {
      const answer = server.evaluate(token);
      const user = server.isComplete ? server.authenticatedId : undefined;
      return { err: 0, token: answer, ids: user === undefined ? [] : this.idsOf(user) };
    } catch (error) {
      if (!(error instanceof DigestMd5Error)) throw error;
      return this.failed(error.message);
    }
  }

  /** processSasl's SaslException: kept with allowSaslFailedClients unless sasl is required. */
  private failed(reason: string): SaslAnswer {
    const { allowSaslFailedClients, saslAuthRequired } = this.settings;
    if (allowSaslFailedClients && !saslAuthRequired) return { err: 0, token: null, reason };
    const err = saslAuthRequired ? ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH : ErrorCode.AUTHFAILED;
    return { err, token: null, reason };
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
   * The ids of an authenticated user: sasl and its authorized id, which
   * SaslServerCallbackHandler makes from the name as from a Kerberos principal, and super
   * when that id is a zookeeper.superUser (ZooKeeperServer.isSaslSuperUser).
   */
  private idsOf(id: string): Id[] {
    const ids: Id[] = [{ scheme: "sasl", id }];
    if (this.settings.superUsers.includes(id)) ids.push({ scheme: "super", id: "" });
    return ids;
  }
}
