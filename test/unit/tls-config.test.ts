/**
 * TLS settings from zoo.cfg (ZooKeeper's names): secureClientPort without clientPort serves TLS
 * only, ssl.* resolve with ZooKeeper's defaults (clientAuth need), and key material Node cannot
 * read is refused with a message that names the key and says how to convert it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import { optionsFromConfig, parseZooCfg, resolveOptions } from "../../src/server/config.js";
import { secureContextOptions } from "../../src/server/tls.js";

const dir = mkdtempSync(join(tmpdir(), "zkts-tls-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function resolveCfg(text: string) {
  return resolveOptions(optionsFromConfig(parseZooCfg(text)));
}

describe("TLS settings", () => {
  it("a zoo.cfg with secureClientPort and no clientPort serves TLS only, clientAuth need", () => {
    const resolved = resolveCfg(
      "secureClientPort=2281\nssl.keyStore.location=/k/server.pem\nssl.trustStore.location=/k/ca.pem\n",
    );
    assert.equal(resolved.clientPort, null);
    assert.equal(resolved.secure?.port, 2281);
    assert.equal(resolved.secure?.address, "0.0.0.0");
    assert.equal(resolved.secure?.clientAuth, "need");
    assert.equal(resolved.secure?.keyStore.type, "PEM");
    const both = resolveCfg(
      "clientPort=2181\nsecureClientPort=2281\nzookeeper.ssl.keyStore.location=/k/s.p12\nssl.clientAuth=want\n",
    );
    assert.equal(both.clientPort, 2181);
    assert.equal(both.secure?.keyStore.type, "PKCS12");
    assert.equal(both.secure?.clientAuth, "want");
  });

  it("refuses what it cannot serve, naming the setting", () => {
    const refused = (text: string, pattern: RegExp) =>
      assert.throws(
        () => resolveCfg(text),
        (error: unknown) => error instanceof InvalidArgumentError && pattern.test(error.message),
      );
    refused("secureClientPort=2281\n", /ssl\.keyStore\.location must be set/);
    refused(
      "secureClientPort=2281\nssl.keyStore.location=/k/server.jks\n",
      /ssl\.keyStore\.location \/k\/server\.jks: a Java KeyStore \(JKS\).*keytool -importkeystore/,
    );
    refused(
      "secureClientPort=2281\nssl.keyStore.location=/k/s.pem\nssl.trustStore.location=/k/t.p12\n",
      /ssl\.trustStore\.location \/k\/t\.p12: .*openssl pkcs12 -in \/k\/t\.p12 -nokeys/,
    );
    refused(
      "secureClientPort=2281\nssl.keyStore.location=/k/s.pem\nssl.clientAuth=maybe\n",
      /ssl\.clientAuth must be none, want or need/,
    );
    refused("secureClientPort=2281\nssl.keyStore.location=/k/server.key\n", /ssl\.keyStore\.type/);
  });

  it("recognizes a Java KeyStore by its bytes whatever its name, and a missing file", () => {
    const disguised = join(dir, "server.p12");
    writeFileSync(disguised, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    const secure = resolveCfg(`secureClientPort=0\nssl.keyStore.location=${disguised}\n`).secure!;
    assert.throws(() => secureContextOptions(secure), /a Java KeyStore \(JKS\)/);
    const missing = resolveCfg(
      `secureClientPort=0\nssl.keyStore.location=${join(dir, "none.pem")}\n`,
    ).secure!;
    assert.throws(
      () => secureContextOptions(missing),
      /ssl\.keyStore\.location .*none\.pem: ENOENT/,
    );
  });
});
