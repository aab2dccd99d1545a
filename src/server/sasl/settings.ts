/**
 * SASL and authentication enforcement settings, as ZooKeeper 3.8 reads them: the sasl ACL
 * scheme exists when an `authProvider.N` names SASLAuthenticationProvider (ProviderRegistry);
 * DIGEST-MD5 users come from the JAAS file's "Server" section (java.security.auth.login.config);
 * AuthenticationHelper's `sessionRequireClientSASLAuth` (same as enforce.auth.enabled with
 * schemes "sasl") or `enforce.auth.enabled` + `enforce.auth.schemes` refuse every request of a
 * connection that has no id of those schemes.
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../../protocol/errors.js";
import type { ServerOptions } from "../options.js";
import { digestUsers, parseJaas } from "./jaas.js";
import type { PrincipalRules } from "./kerberos-name.js";

export const SASL_AUTHENTICATION_PROVIDER =
  "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

/** What the server does with SASL and enforcement; the defaults do nothing. */
export interface SaslSettings {
  /** DIGEST-MD5 users and passwords; undefined when no JAAS file was given. */
  readonly users?: ReadonlyMap<string, string>;
  /** The sasl scheme is known (authProvider.N = SASLAuthenticationProvider). */
  readonly saslProvider: boolean;
  /** Schemes one of which a connection must have before any request; empty: no enforcement. */
  readonly enforceAuthSchemes: readonly string[];
  /** Enforcement includes sasl: a failed SASL exchange is SESSIONCLOSEDREQUIRESASLAUTH. */
  readonly saslAuthRequired: boolean;
  /** zookeeper.superUser and zookeeper.superUser.N: sasl ids that are the super user too. */
  readonly superUsers: readonly string[];
  /** zookeeper.letAnySaslUserDoX: a sasl ACL naming this value admits every sasl id. */
  readonly letAnySaslUserDoX?: string;
  /**
   * zookeeper.allowSaslFailedClients: a failed exchange is answered OK with no token and the
   * connection stays, unauthenticated (unless enforcement requires sasl).
   */
  readonly allowSaslFailedClients: boolean;
  /** How an authenticated user name becomes its sasl id (kerberos-name.ts). */
  readonly principalRules: PrincipalRules;
}

/** Reads the JAAS file and checks the enforcement settings; throws InvalidArgumentError. */
export function resolveSasl(options: ServerOptions): SaslSettings {
  const saslProvider = (options.authProviders ?? []).includes(SASL_AUTHENTICATION_PROVIDER);
  let enforceAuthSchemes: readonly string[] = [];
  if (options.sessionRequireClientSASLAuth === true) enforceAuthSchemes = ["sasl"];
  else if (options.enforceAuthEnabled === true) {
    enforceAuthSchemes = options.enforceAuthSchemes ?? [];
    if (enforceAuthSchemes.length === 0) {
      throw new InvalidArgumentError(
        "zookeeper.enforce.auth.enabled is true: zookeeper.enforce.auth.schemes must be configured",
      );
    }
  }
  const available = new Set(["ip", "digest", "x509", ...(saslProvider ? ["sasl"] : [])]);
  for (const scheme of enforceAuthSchemes) {
    if (!available.has(scheme)) {
      throw new InvalidArgumentError(`Authentication scheme ${scheme} is not available.`);
    }
  }
  return {
    saslProvider,
    enforceAuthSchemes,
    saslAuthRequired: enforceAuthSchemes.includes("sasl"),
    ...(options.jaasConfigFile !== undefined && {
      users: readUsers(options.jaasConfigFile, options.saslSuperPassword),
    }),
    superUsers: (options.saslSuperUsers ?? []).filter((user) => user !== ""),
    ...(options.letAnySaslUserDoX !== undefined && {
      letAnySaslUserDoX: options.letAnySaslUserDoX,
    }),
    allowSaslFailedClients: options.allowSaslFailedClients === true,
    principalRules: {
      // Java's default realm: java.security.krb5.realm counts only beside krb5.kdc; we read
      // no krb5.conf, so without them there is no Kerberos configuration, as on this machine.
      defaultRealm:
        options.krb5Realm !== undefined && options.krb5Kdc !== undefined ? options.krb5Realm : "",
      removeHost: options.kerberosRemoveHostFromPrincipal === true,
      removeRealm: options.kerberosRemoveRealmFromPrincipal === true,
    },
  };
}

/**
 * The JAAS users; zookeeper.SASLAuthenticationProvider.superPassword is the password of the
 * user "super", but only of one the file names (SaslServerCallbackHandler asks it for users
 * it knows).
 */
function readUsers(path: string, superPassword: string | undefined): ReadonlyMap<string, string> {
  try {
    const users = digestUsers(parseJaas(readFileSync(path, "utf8")));
    if (superPassword !== undefined && users.has("super")) users.set("super", superPassword);
    return users;
  } catch (error) {
    throw new InvalidArgumentError(
      `java.security.auth.login.config ${path}: ${(error as Error).message}`,
    );
  }
}

/** zoo.cfg's comma-separated scheme list (AuthenticationHelper splits and trims it). */
export function schemeList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
