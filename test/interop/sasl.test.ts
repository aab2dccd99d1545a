/**
 * SASL DIGEST-MD5 on the client port (issue 9), differentially: Apache ZooKeeper's own Java
 * client (ZooKeeperMain, -Dzookeeper.sasl.client=true and a JAAS "Client" section) against zkts
 * and against Apache ZooKeeper 3.8, both given the same JAAS "Server" section and
 * authProvider.1=SASLAuthenticationProvider. On both:
 *
 * - the right password authenticates: whoami names sasl: bob, and a node created with the ACL
 *   sasl:bob:cdrwa is readable by that client and NOAUTH to an unauthenticated one;
 * - a wrong password fails the exchange (AuthFailed) and reads nothing;
 * - with sessionRequireClientSASLAuth=true the Java client with the right password still works,
 *   and a client that never authenticates gets SESSIONCLOSEDREQUIRESASLAUTH (-124) for its
 *   first request, and the connection is closed;
 * - with enforce.auth.enabled and enforce.auth.schemes=digest, a client that added a digest
 *   works and one that did not gets -124.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { connect, NoAuthError, SessionClosedRequireSaslAuthError } from "../../src/index.js";
import { ErrorCode } from "../../src/protocol/errors.js";
import { createLogger, startServer } from "../../src/server/index.js";
import { SASL_AUTHENTICATION_PROVIDER } from "../../src/server/sasl/settings.js";
import { apacheZooKeeperSkip, startZooKeeper } from "../harness/apache-zookeeper.js";
import { runZooKeeperMain } from "../harness/java-cli.js";
import { getDataFrame, RawSession } from "../harness/raw-session.js";

const _execFileAsync = promisify(execFile);

const SERVER_JAAS = `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
`;

function clientJaas(password: string): string {
  return `Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="${password}";
};
`;
}

interface Target {
  readonly port: number;
  close(): Promise<void>;
}

interface Files {
  readonly dir: string;
  readonly serverJaas: string;
  readonly goodClient: string;
  readonly badClient: string;
}

let files: Files;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), "zkts-sasl-"));
  files = {
    dir,
    serverJaas: join(dir, "server.jaas"),
    goodClient: join(dir, "good-client.jaas"),
    badClient: join(dir, "bad-client.jaas"),
  };
  await writeFile(files.serverJaas, SERVER_JAAS);
  await writeFile(files.goodClient, clientJaas("bobsecret"));
  await writeFile(files.badClient, clientJaas("wrong"));
});

after(async () => {
  await rm(files.dir, { recursive: true, force: true });
});

async function startZkts(
  extra: {
    sessionRequireClientSASLAuth?: boolean;
    enforceAuthEnabled?: boolean;
    enforceAuthSchemes?: string[];
  } = {},
): Promise<Target> {
  const server = await startServer(
    {
      clientPort: 0,
      clientPortAddress: "127.0.0.1",
      authProviders: [SASL_AUTHENTICATION_PROVIDER],
      jaasConfigFile: files.serverJaas,
      ...extra,
    },
    createLogger("silent"),
  );
  return { port: server.port as number, close: () => server.close() };
}

async function startApache(systemProperties: Record<string, string> = {}): Promise<Target> {
  const zk = await startZooKeeper({
    systemProperties: {
      "java.security.auth.login.config": files.serverJaas,
      "zookeeper.authProvider.1": SASL_AUTHENTICATION_PROVIDER,
      ...systemProperties,
    },
  });
  return { port: zk.port, close: () => zk.stop() };
}

/** ZooKeeperMain with SASL on, the given client JAAS file, and a script on stdin. */
function javaCli(port: number, clientJaasFile: string, script: string): Promise<string> {
  return runZooKeeperMain(`127.0.0.1:${port}`, script, {
    systemProperties: [
      `-Djava.security.auth.login.config=${clientJaasFile}`,
      "-Dzookeeper.sasl.client=true",
    ],
  });
}

function saslChecks(name: string, start: () => Promise<Target>): void {
  it(`${name}: the right password authenticates; a sasl:bob ACL admits bob only`, async () => {
    const target = await start();
    try {
      const out = await javaCli(
        target.port,
        files.goodClient,
        "create /sasl-node secret-data sasl:bob:cdrwa\nget /sasl-node\nwhoami\nquit\n",
      );
      assert.match(out, /Created \/sasl-node/, out);
      assert.match(out, /^secret-data$/m, out);
      assert.match(out, /^sasl: bob$/m, out);
      const anonymous = await connect(`127.0.0.1:${target.port}`);
      try {
        await assert.rejects(anonymous.getData("/sasl-node"), NoAuthError);
      } finally {
        await anonymous.close();
      }
    } finally {
      await target.close();
    }
  });

  it(`${name}: a wrong password fails authentication and reads nothing`, async () => {
    const target = await start();
    try {
      const setup = await javaCli(
        target.port,
        files.goodClient,
        "create /sasl-node secret-data sasl:bob:cdrwa\nquit\n",
      );
      assert.match(setup, /Created \/sasl-node/, setup);
      const out = await javaCli(target.port, files.badClient, "get /sasl-node\nwhoami\nquit\n");
      assert.match(out, /AuthFailed/, out);
      assert.doesNotMatch(out, /^secret-data$/m, out);
      assert.doesNotMatch(out, /^sasl: bob$/m, out);
    } finally {
      await target.close();
    }
  });
}

/** Under sessionRequireClientSASLAuth: bob works; a client that never authenticates is shut. */
async function unauthenticatedIsRefused(target: Target): Promise<void> {
  try {
    const out = await javaCli(
      target.port,
      files.goodClient,
      "create /enforced yes\nget /enforced\nwhoami\nquit\n",
    );
    assert.match(out, /Created \/enforced/, out);
    assert.match(out, /^yes$/m, out);
    assert.match(out, /^sasl: bob$/m, out);
    const session = await RawSession.open(target.port);
    const err = await session.call(getDataFrame(1, "/", false));
    assert.equal(err, ErrorCode.SESSIONCLOSEDREQUIRESASLAUTH);
    await session.closed;
  } finally {
    await target.close();
  }
}

/**
 * enforce.auth.enabled with enforce.auth.schemes=digest: our client with a digest addAuth works
 * (the auth packet itself is let through), one without gets -124 for its first request.
 */
async function digestIsEnforced(target: Target): Promise<void> {
  try {
    const address = `127.0.0.1:${target.port}`;
    const withDigest = await connect(address, { auth: [{ scheme: "digest", auth: "u:p" }] });
    try {
      assert.deepEqual(await withDigest.getChildren("/"), ["zookeeper"]);
    } finally {
      await withDigest.close();
    }
    const without = await connect(address);
    try {
      await assert.rejects(without.getChildren("/"), SessionClosedRequireSaslAuthError);
    } finally {
      await without.close();
    }
  } finally {
    await target.close();
  }
}

describe("SASL DIGEST-MD5: Java client against zkts", { skip: apacheZooKeeperSkip() }, () => {
  saslChecks("zkts", () => startZkts());
  it("zkts: sessionRequireClientSASLAuth refuses an unauthenticated request with -124", () =>
    startZkts({ sessionRequireClientSASLAuth: true }).then(unauthenticatedIsRefused));
  it("zkts: enforce.auth.schemes=digest admits a digest session only", () =>
    startZkts({ enforceAuthEnabled: true, enforceAuthSchemes: ["digest"] }).then(digestIsEnforced));
});

describe("SASL DIGEST-MD5: Java client against Apache ZooKeeper", {
  skip: apacheZooKeeperSkip(),
}, () => {
  saslChecks("Apache ZooKeeper", () => startApache());
  it("Apache ZooKeeper: sessionRequireClientSASLAuth refuses with -124", () =>
    startApache({ "zookeeper.sessionRequireClientSASLAuth": "true" }).then(
      unauthenticatedIsRefused,
    ));
  it("Apache ZooKeeper: enforce.auth.schemes=digest admits a digest session only", () =>
    startApache({
      "zookeeper.enforce.auth.enabled": "true",
      "zookeeper.enforce.auth.schemes": "digest",
    }).then(digestIsEnforced));
});
