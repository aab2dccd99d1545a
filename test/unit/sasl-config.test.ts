/**
 * Goal: the SASL and enforcement settings read as ZooKeeper 3.8 reads them (authProvider.N,
 * sessionRequireClientSASLAuth, enforce.auth.enabled/schemes, the JAAS file) and nonsense is
 * refused as AuthenticationHelper refuses it at startup.
 * Method: zoo.cfg text through optionsFromConfig and resolveOptions, a JAAS file on disk.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import { optionsFromConfig, parseZooCfg, resolveOptions } from "../../src/server/config.js";

const dir = mkdtempSync(join(tmpdir(), "zkts-sasl-config-"));
const jaas = join(dir, "server.jaas");
writeFileSync(
  jaas,
  'Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };\n',
);
after(() => rmSync(dir, { recursive: true, force: true }));

const resolve = (text: string) => resolveOptions(optionsFromConfig(parseZooCfg(text)));
const SASL = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

describe("SASL settings from zoo.cfg", () => {
  it("authProvider.N, the JAAS file and sessionRequireClientSASLAuth", () => {
    const { sasl } = resolve(
      `authProvider.1=${SASL}\njava.security.auth.login.config=${jaas}\n` +
        "sessionRequireClientSASLAuth=true\nsuperUser=bob\n",
    );
    assert.equal(sasl.saslProvider, true);
    assert.deepEqual([...(sasl.users ?? [])], [["bob", "pw"]]);
    assert.deepEqual(sasl.enforceAuthSchemes, ["sasl"]);
    assert.equal(sasl.saslAuthRequired, true);
    assert.deepEqual(sasl.superUsers, ["bob"]);
  });

  it("enforce.auth.enabled takes the listed schemes, trimmed", () => {
    const { sasl } = resolve(
      `zookeeper.authProvider.sasl=${SASL}\nenforce.auth.enabled=true\n` +
        "enforce.auth.schemes= digest , sasl\n",
    );
    assert.deepEqual(sasl.enforceAuthSchemes, ["digest", "sasl"]);
    assert.equal(sasl.saslAuthRequired, true);
  });

  it("without enforce.auth.enabled the schemes enforce nothing", () => {
    const { sasl } = resolve("enforce.auth.schemes=digest\n");
    assert.deepEqual(sasl.enforceAuthSchemes, []);
  });

  it("refuses enforcement without schemes, an unknown scheme, sasl without its provider", () => {
    assert.throws(() => resolve("enforce.auth.enabled=true\n"), InvalidArgumentError);
    assert.throws(
      () => resolve("enforce.auth.enabled=true\nenforce.auth.schemes=kerberos\n"),
      /kerberos is not available/,
    );
    assert.throws(() => resolve("sessionRequireClientSASLAuth=true\n"), /sasl is not available/);
  });

  it("refuses a JAAS file that is missing or has no Server section", () => {
    assert.throws(
      () => resolve(`java.security.auth.login.config=${join(dir, "missing")}\n`),
      InvalidArgumentError,
    );
    const client = join(dir, "client.jaas");
    writeFileSync(client, "Client { m required username=bob; };\n");
    assert.throws(
      () => resolve(`java.security.auth.login.config=${client}\n`),
      /no section "Server"/,
    );
  });

  it("superUser.N, letAnySaslUserDoX, allowSaslFailedClients and the principal flags", () => {
    const { sasl } = resolve(
      `java.security.auth.login.config=${jaas}\nsuperUser=bob\nzookeeper.superUser.2=carol\n` +
        "letAnySaslUserDoX=anyone\nzookeeper.allowSaslFailedClients=TRUE\n" +
        "kerberos.removeHostFromPrincipal=true\nkerberos.removeRealmFromPrincipal=True\n" +
        "java.security.krb5.realm=EXAMPLE.COM\n",
    );
    assert.deepEqual(sasl.superUsers, ["bob", "carol"]);
    assert.equal(sasl.letAnySaslUserDoX, "anyone");
    assert.equal(sasl.allowSaslFailedClients, true); // Boolean.getBoolean: any case
    // SaslServerCallbackHandler compares with "true" exactly; Java wants krb5.kdc beside realm.
    assert.deepEqual(sasl.principalRules, {
      defaultRealm: "",
      removeHost: true,
      removeRealm: false,
    });
    const withKdc = resolve("java.security.krb5.realm=EXAMPLE.COM\njava.security.krb5.kdc=k\n");
    assert.equal(withKdc.sasl.principalRules.defaultRealm, "EXAMPLE.COM");
  });

  it("SASLAuthenticationProvider.superPassword replaces the password of a listed super", () => {
    const withSuper = join(dir, "super.jaas");
    writeFileSync(withSuper, 'Server { m required user_super="file" user_bob="pw"; };\n');
    const { sasl } = resolve(
      `java.security.auth.login.config=${withSuper}\n` +
        "zookeeper.SASLAuthenticationProvider.superPassword=property\n",
    );
    assert.deepEqual(
      [...(sasl.users ?? [])],
      [
        ["super", "property"],
        ["bob", "pw"],
      ],
    );
    const { sasl: without } = resolve(
      `java.security.auth.login.config=${jaas}\nSASLAuthenticationProvider.superPassword=p\n`,
    );
    assert.equal(without.users?.has("super"), false);
  });
});
