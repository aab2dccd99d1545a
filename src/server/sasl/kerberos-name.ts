/**
 * The sasl id a completed exchange gives, as ZooKeeper 3.8's SaslServerCallbackHandler makes it
 * from the authenticated user name even for DIGEST-MD5: it reads the name as a Kerberos
 * principal "service[/host][@realm]" (KerberosName), maps it to its short name by the auth_to_local
 * rules, and puts the host and realm back unless zookeeper.kerberos.removeHostFromPrincipal /
 * removeRealmFromPrincipal say "true".
 *
 * Only the DEFAULT rule is modelled (zookeeper.security.auth_to_local's RULE:[...] forms are
 * not): a name with a realm maps only when its realm is the default realm, which is
 * java.security.krb5.realm, or "" when no Kerberos configuration is found (as on a machine
 * without krb5.conf). A name the rules do not map keeps its full form, because ZooKeeper logs
 * the mapping's failure and leaves the authorized id as it was.
 */

export interface PrincipalRules {
  /** The default realm: "" without a Kerberos configuration. */
  readonly defaultRealm: string;
  readonly removeHost: boolean;
  readonly removeRealm: boolean;
}

export interface KerberosName {
  readonly serviceName: string;
  readonly hostName: string | null;
  readonly realm: string | null;
}

const PRINCIPAL = /^([^/@]*)(?:\/([^/@]*))?@([^/@]*)$/;

/** KerberosName's constructor: null where it throws (an "@" in a name of another shape). */
export function parseKerberosName(name: string): KerberosName | null {
  const match = PRINCIPAL.exec(name);
  if (match === null) {
    return name.includes("@") ? null : { serviceName: name, hostName: null, realm: null };
  }
  return { serviceName: match[1] ?? "", hostName: match[2] ?? null, realm: match[3] ?? "" };
}

/**
 * The authorized id of an authenticated user name. Returns null for a name KerberosName
 * refuses, on which ZooKeeper's callback throws and the exchange fails.
 */
export function authorizedId(user: string, rules: PrincipalRules): string | null {
  const name = parseKerberosName(user);
  if (name === null) return null;
  const { serviceName, hostName, realm } = name;
  // getShortName: a name with neither host nor realm is already short; otherwise only the
  // DEFAULT rule, which maps a principal of the default realm to its first component.
  if (realm === null && hostName === null) return serviceName;
  if (realm !== rules.defaultRealm) return user;
  let id = serviceName;
  if (hostName !== null && !rules.removeHost) id += `/${hostName}`;
  if (realm !== null && !rules.removeRealm) id += `@${realm}`;
  return id;
}
