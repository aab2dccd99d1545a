/**
 * The part of a JAAS login configuration file (java.security.auth.login.config) that ZooKeeper's
 * DIGEST-MD5 server reads: the "Server" section's login module options, whose `user_<name>`
 * entries are the users and passwords (SaslServerCallbackHandler).
 *
 *     Server {
 *       org.apache.zookeeper.server.auth.DigestLoginModule required
 *       user_bob="bobsecret";
 *     };
 */

/** One login module entry of a section: its class, flag and options. */
export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: string;
  readonly options: ReadonlyMap<string, string>;
}

/** Parses a JAAS file into its sections; throws an Error naming what is malformed. */
export function parseJaas(text: string): Map<string, JaasEntry[]> {
  const tokens = tokenize(text);
  const sections = new Map<string, JaasEntry[]>();
  let i = 0;
  const next = (): string => {
    const token = tokens[i++];
    if (token === undefined) throw new Error("JAAS file ends inside a section");
    return token;
  };
  while (i < tokens.length) {
    const name = next();
    if (next() !== "{") throw new Error(`JAAS section ${name}: expected "{"`);
    const entries: JaasEntry[] = [];
    for (let token = next(); token !== "}"; token = next()) {
      const loginModule = token;
      const flag = next();
      const options = new Map<string, string>();
      for (let key = next(); key !== ";"; key = next()) {
        if (next() !== "=") throw new Error(`JAAS section ${name}: expected "=" after ${key}`);
        options.set(unquote(key), unquote(next()));
      }
      entries.push({ loginModule, flag, options });
    }
    if (tokens[i] === ";") i++;
    sections.set(name, entries);
  }
  return sections;
}

/** The users of a section's `user_<name>="<password>"` options (SaslServerCallbackHandler). */
export function digestUsers(sections: Map<string, JaasEntry[]>, section = "Server") {
  const entries = sections.get(section);
  if (entries === undefined) throw new Error(`JAAS file has no section "${section}"`);
  const users = new Map<string, string>();
  for (const entry of entries) {
    for (const [key, value] of entry.options) {
      if (key.startsWith("user_")) users.set(key.slice("user_".length), value);
    }
  }
  return users;
}

function tokenize(text: string): string[] {
  const withoutComments = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|#[^\n]*/g, " ");
  return withoutComments.match(/"(?:[^"\\]|\\.)*"|[{};=]|[^\s{};="]+/g) ?? [];
}

function unquote(token: string): string {
  if (!token.startsWith('"')) return token;
  return token.slice(1, -1).replace(/\\(.)/g, "$1");
}
