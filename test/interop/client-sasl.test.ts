/**
 * Our client's SASL DIGEST-MD5 (`connect(..., { sasl: { username, password } })`), the same
 * checks against zkts and against Apache ZooKeeper 3.8, both with the same JAAS "Server" section
 * and authProvider.1=SASLAuthenticationProvider:
 *
 * - the right password: whoAmI names sasl:bob; a node with the ACL sasl:bob is readable by
 *   this client and NOAUTH to an unauthenticated one; the "auth" ACL becomes sasl:bob;
 * - without authProvider.1 SASL still authenticates (whoAmI: sasl with no user name), but an
 *   ACL sasl:bob is INVALIDACL;
 * - a wrong password: connect() rejects with AuthFailedError;
 * - with sessionRequireClientSASLAuth, through a proxy that cuts the connection: the requests
 *   after the reconnect succeed, so the exchange ran again before them (else -124).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AuthFailedError,
  CREATOR_ALL_ACL,
  connect,
  InvalidACLError,
  NoAuthError,
  Perms,
  type ZooKeeper,
} from "../../src/index.js";
import { createLogger, startServer } from "../../src/server/index.js";
import { SASL_AUTHENTICATION_PROVIDER } from "../../src/server/sasl/settings.js";
import { apacheZooKeeperSkip, startZooKeeper } from "../harness/apache-zookeeper.js";
import { startProxy } from "../harness/tcp-proxy.js";

const BOB = { username: "bob", password: "bobsecret" };
let dir: string;
let serverJaas: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "zkts-client-sasl-"));
  serverJaas = join(dir, "server.jaas");
  await writeFile(
    serverJaas,
    'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobsecret";\n};\n',
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Target {
  readonly port: number;
  close(): Promise<void>;
}

/** requireSasl: sessionRequireClientSASLAuth; provider: false leaves authProvider.1 out. */
type Start = (requireSasl: boolean, provider?: boolean) => Promise<Target>;

const startZkts: Start = async (requireSasl, provider = true) => {
  const server = await startServer(
    {
      clientPort: 0,
      clientPortAddress: "127.0.0.1",
      authProviders: provider ? [SASL_AUTHENTICATION_PROVIDER] : [],
      jaasConfigFile: serverJaas,
      sessionRequireClientSASLAuth: requireSasl,
    },
    createLogger("silent"),
  );
  return { port: server.port as number, close: () => server.close() };
};

const startApache: Start = async (requireSasl, provider = true) => {
  const zk = await startZooKeeper({
    systemProperties: {
      "java.security.auth.login.config": serverJaas,
      ...(provider && { "zookeeper.authProvider.1": SASL_AUTHENTICATION_PROVIDER }),
      "zookeeper.sessionRequireClientSASLAuth": String(requireSasl),
    },
  });
  return { port: zk.port, close: () => zk.stop() };
};

async function nextState(zk: ZooKeeper, wanted: string): Promise<void> {
  for await (const state of zk.states()) if (state === wanted) return;
  assert.fail(`the client never became ${wanted}`);
}

function checks(name: string, start: Start): void {
  it(`${name}: sasl:bob by whoAmI and by ACL; others get NOAUTH`, async () => {
    const target = await start(false);
    try {
      const address = `127.0.0.1:${target.port}`;
      const bob = await connect(address, { sasl: BOB });
      try {
        const ids = await bob.whoAmI();
        assert.ok(
          ids.some((i) => i.authScheme === "sasl" && i.user === "bob"),
          JSON.stringify(ids),
        );
        await bob.create("/bob-only", "mine", {
          acl: [{ perms: Perms.ALL, id: { scheme: "sasl", id: "bob" } }],
        });
        assert.equal((await bob.getData("/bob-only")).data.toString(), "mine");
        // The "auth" ACL stands for the session's authenticated ids: sasl:bob here.
        await bob.create("/creator-all", "", { acl: CREATOR_ALL_ACL });
        assert.deepEqual((await bob.getACL("/creator-all")).acl, [
          { perms: Perms.ALL, id: { scheme: "sasl", id: "bob" } },
        ]);
      } finally {
        await bob.close();
      }
      const anonymous = await connect(address);
      try {
        await assert.rejects(anonymous.getData("/bob-only"), NoAuthError);
      } finally {
        await anonymous.close();
      }
    } finally {
      await target.close();
    }
  });

  it(`${name}: without SASLAuthenticationProvider, SASL works but a sasl ACL is invalid`, async () => {
    const target = await start(false, false);
    try {
      const bob = await connect(`127.0.0.1:${target.port}`, { sasl: BOB });
      try {
        // The id is there, but with no provider to name its user (AuthUtil.getUser).
        const ids = await bob.whoAmI();
        assert.ok(
          ids.some((i) => i.authScheme === "sasl" && i.user === ""),
          JSON.stringify(ids),
        );
        await assert.rejects(
          bob.create("/bob-only", "", {
            acl: [{ perms: Perms.ALL, id: { scheme: "sasl", id: "bob" } }],
          }),
          InvalidACLError,
        );
      } finally {
        await bob.close();
      }
    } finally {
      await target.close();
    }
  });

  it(`${name}: a wrong password fails connect with AuthFailedError`, async () => {
    const target = await start(false);
    try {
      await assert.rejects(
        connect(`127.0.0.1:${target.port}`, { sasl: { username: "bob", password: "nope" } }),
        AuthFailedError,
      );
    } finally {
      await target.close();
    }
  });

  it(`${name}: SASL runs again on reconnect (sessionRequireClientSASLAuth)`, async () => {
    const target = await start(true);
    const proxy = await startProxy(target.port);
    try {
      const bob = await connect(proxy.address, { sasl: BOB, reconnectDelayMaxMs: 100 });
      try {
        await bob.create("/enforced", "1");
        const reconnected = nextState(bob, "disconnected").then(() => nextState(bob, "connected"));
        proxy.cut();
        await reconnected;
        assert.equal((await bob.getData("/enforced")).data.toString(), "1");
        const ids = await bob.whoAmI();
        assert.ok(
          ids.some((i) => i.authScheme === "sasl" && i.user === "bob"),
          JSON.stringify(ids),
        );
        assert.equal(proxy.accepted, 2);
      } finally {
        await bob.close();
      }
    } finally {
      await proxy.close();
      await target.close();
    }
  });
}

describe("our client's SASL against zkts", () => checks("zkts", startZkts));

describe("our client's SASL against Apache ZooKeeper", { skip: apacheZooKeeperSkip() }, () =>
  checks("Apache ZooKeeper", startApache),
);
