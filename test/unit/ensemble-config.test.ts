/**
 * The ensemble part of zoo.cfg (server.N, initLimit, syncLimit, peerType,
 * readonlymode.enabled) and the myid file, read as ZooKeeper's QuorumPeerConfig reads them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import { parseZooCfg } from "../../src/server/config.js";
import { ensembleFromConfig, parseServer, readMyId } from "../../src/server/ensemble-config.js";

const THREE = `
tickTime=2000
dataDir=/var/lib/zookeeper
clientPort=2181
initLimit=10
syncLimit=5
server.1=127.0.0.1:2888:3888
server.2=127.0.0.1:2889:3889:participant;2182
server.3=[::1]:2890:3890;127.0.0.1:2183
server.4=zk4.example:2891:3891:observer
`;

function refuses(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("ensemble config", () => {
  test("reads every server line form ZooKeeper 3.8 accepts", () => {
    const ensemble = ensembleFromConfig(parseZooCfg(THREE));
    assert.ok(ensemble);
    assert.deepEqual(ensemble.servers, [
      { id: 1, host: "127.0.0.1", quorumPort: 2888, electionPort: 3888, type: "participant" },
      {
        id: 2,
        host: "127.0.0.1",
        quorumPort: 2889,
        electionPort: 3889,
        type: "participant",
        clientPort: 2182,
      },
      {
        id: 3,
        host: "::1",
        quorumPort: 2890,
        electionPort: 3890,
        type: "participant",
        clientAddress: "127.0.0.1",
        clientPort: 2183,
      },
      { id: 4, host: "zk4.example", quorumPort: 2891, electionPort: 3891, type: "observer" },
    ]);
    assert.equal(ensemble.initLimit, 10);
    assert.equal(ensemble.syncLimit, 5);
    assert.equal(ensemble.readOnlyModeEnabled, false);
  });

  test("one server line or none is standalone", () => {
    assert.equal(ensembleFromConfig(parseZooCfg("clientPort=2181\n")), undefined);
    assert.equal(ensembleFromConfig(parseZooCfg("server.1=h:1:2\n")), undefined);
  });

  test("defaults and readonlymode", () => {
    const ensemble = ensembleFromConfig(
      parseZooCfg("server.1=h:1:2\nserver.2=h:3:4\nreadonlymode.enabled=true\n"),
    );
    assert.equal(ensemble?.initLimit, 10);
    assert.equal(ensemble?.syncLimit, 5);
    assert.equal(ensemble?.readOnlyModeEnabled, true);
  });

  test("refuses malformed lines with the key in the message", () => {
    refuses(() => parseServer(1, "host:2888"), /server\.1: "host:2888" is not host:quorumPort/);
    refuses(() => parseServer(1, "host:2888:99999"), /server\.1: "99999" is not a port/);
    refuses(() => parseServer(1, "host:2888:3888:voter"), /"voter" is not participant or observer/);
    refuses(() => parseServer(1, "host:2888:2888"), /must differ/);
    refuses(() => parseServer(1, "host:2888:3888;x"), /"x" is not a port/);
    refuses(
      () => ensembleFromConfig(parseZooCfg("server.1=h:1:2:observer\nserver.2=h:3:4:observer\n")),
      /no participant/,
    );
    refuses(
      () => ensembleFromConfig(parseZooCfg("server.1=h:1:2\nserver.2=h:3:4\ninitLimit=0\n")),
      /initLimit: "0" is not a positive integer/,
    );
  });

  test("myid names this server; a missing or unknown id refuses with the file's name", () => {
    const ensemble = ensembleFromConfig(parseZooCfg(THREE));
    assert.ok(ensemble);
    const dir = mkdtempSync(join(tmpdir(), "zkts-myid-"));
    dirs.push(dir);
    refuses(() => readMyId(dir, ensemble), /myid is missing/);
    writeFileSync(join(dir, "myid"), "2\n");
    assert.equal(readMyId(dir, ensemble).quorumPort, 2889);
    writeFileSync(join(dir, "myid"), "9\n");
    refuses(() => readMyId(dir, ensemble), /no server\.9 line/);
    writeFileSync(join(dir, "myid"), "two\n");
    refuses(() => readMyId(dir, ensemble), /"two" is not a server id/);
    writeFileSync(join(dir, "myid"), "4");
    assert.equal(readMyId(dir, ensemble).type, "observer");
    const mismatch = ensembleFromConfig(parseZooCfg(`${THREE}\npeerType=participant\n`));
    assert.ok(mismatch);
    refuses(() => readMyId(dir, mismatch), /peerType is participant but server\.4 says observer/);
  });
});
