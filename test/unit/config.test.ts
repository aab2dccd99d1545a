/**
 * zoo.cfg parsing, ZooKeeper's names and defaults, and the settings we refuse.
 *
 * The defaults asserted here are Apache ZooKeeper 3.8.0's, read from its jar (QuorumPeerConfig
 * parsing a zoo.cfg with only dataDir and clientPort): tickTime 3000, session timeouts 6000 and
 * 60000, maxClientCnxns 60, jute.maxbuffer 1048575, globalOutstandingLimit 1000, only `srvr`
 * enabled, extended types off.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "../../src/protocol/errors.js";
import {
  DEFAULTS,
  optionsFromConfig,
  parseZooCfg,
  resolveOptions,
} from "../../src/server/config.js";

/** The sample zoo.cfg shipped with ZooKeeper, plus an ensemble's and an admin's lines. */
const SAMPLE = `
# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
syncLimit=5
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
#maxClientCnxns=60
#autopurge.snapRetainCount=3
autopurge.purgeInterval=1
admin.enableServer=false
server.1=127.0.0.1:2888:3888
server.2=127.0.0.1:2889:3889
4lw.commands.whitelist=ruok, stat ,mntr
`;

function refuses(action: () => unknown, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `not an InvalidArgumentError: ${error}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("parseZooCfg", () => {
  it("reads key=value lines, skipping # and ! comments and blank lines", () => {
    const props = parseZooCfg("# comment\n  ! also a comment\n\n a = 1 \nb=two words  \n");
    assert.deepEqual(
      [...props],
      [
        ["a", "1"],
        ["b", "two words"],
      ],
    );
  });

  it("takes ':' and whitespace as separators, as java.util.Properties does", () => {
    const props = parseZooCfg("a: 1\nb 2\nc\t=\t3\nd=e=f\ng\n");
    assert.deepEqual(Object.fromEntries(props), { a: "1", b: "2", c: "3", d: "e=f", g: "" });
  });

  it("joins continued lines and reads escapes", () => {
    const props = parseZooCfg("list=ruok,\\\n    srvr\nkey\\=with\\:seps=x\\ty\\u0041\r\nz=\\\\\n");
    assert.deepEqual(Object.fromEntries(props), {
      list: "ruok,srvr",
      "key=with:seps": "x\tyA",
      z: "\\",
    });
  });

  it("handles CRLF and CR line ends", () => {
    assert.deepEqual(Object.fromEntries(parseZooCfg("a=1\r\nb=2\rc=3")), {
      a: "1",
      b: "2",
      c: "3",
    });
  });

  it("lets a later line win, and orders keys by their last occurrence", () => {
    const props = parseZooCfg("a=1\nb=2\na=3\n");
    assert.deepEqual(
      [...props],
      [
        ["b", "2"],
        ["a", "3"],
      ],
    );
  });

  it("refuses a malformed \\u escape", () => {
    refuses(() => parseZooCfg("a=\\u12\n"), /malformed \\uxxxx/);
  });
});

describe("optionsFromConfig", () => {
  it("maps ZooKeeper's names and ignores the keys it does not use", () => {
    const options = optionsFromConfig(parseZooCfg(SAMPLE));
    assert.deepEqual(options, {
      tickTime: 2000,
      dataDir: "/tmp/zookeeper",
      clientPort: 2181,
      autopurgePurgeIntervalHours: 1,
      adminEnableServer: false,
      fourLetterWordsWhitelist: ["ruok", "stat", "mntr"],
    });
  });

  it("maps every setting it knows", () => {
    const options = optionsFromConfig(
      parseZooCfg(`
clientPort=0
clientPortAddress=127.0.0.1
tickTime=500
minSessionTimeout=1000
maxSessionTimeout=9000
maxClientCnxns=0
jute.maxbuffer=0x100000
globalOutstandingLimit=5
4lw.commands.whitelist=*
extendedTypesEnabled=TRUE
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
znode.container.checkIntervalMs=100
znode.container.maxPerMinute=600
dataDir=/var/lib/zkts
dataLogDir=/fast/zkts
forceSync=no
snapCount=5000
zookeeper.snapSizeLimitInKb=1024
preAllocSize=1024
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
admin.enableServer=true
admin.serverAddress=127.0.0.1
admin.serverPort=0x1f90
admin.commandURL=/cmds
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=7001
metricsProvider.exportJvmInfo=False
`),
    );
    assert.deepEqual(options, {
      clientPort: 0,
      clientPortAddress: "127.0.0.1",
      tickTime: 500,
      minSessionTimeout: 1000,
      maxSessionTimeout: 9000,
      maxClientCnxns: 0,
      juteMaxBuffer: 0x100000,
      globalOutstandingLimit: 5,
      fourLetterWordsWhitelist: "*",
      extendedTypesEnabled: true,
      superDigest: "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
      containerCheckIntervalMs: 100,
      containerMaxPerMinute: 600,
      dataDir: "/var/lib/zkts",
      dataLogDir: "/fast/zkts",
      forceSync: false,
      snapCount: 5000,
      snapSizeLimitInKb: 1024,
      preAllocSizeKb: 1024,
      autopurgeSnapRetainCount: 5,
      autopurgePurgeIntervalHours: 24,
      adminEnableServer: true,
      adminServerAddress: "127.0.0.1",
      adminServerPort: 8080,
      adminCommandUrl: "/cmds",
      metricsProviderClassName: "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
      metricsProviderHttpHost: "127.0.0.1",
      metricsProviderHttpPort: 7001,
      metricsProviderExportJvmInfo: false,
    });
  });

  it("accepts the system-property spellings, the later line winning", () => {
    const options = optionsFromConfig(
      parseZooCfg(`
zookeeper.globalOutstandingLimit=7
zookeeper.extendedTypesEnabled=true
zookeeper.4lw.commands.whitelist=ruok
superDigest=a:b
zookeeper.DigestAuthenticationProvider.superDigest=super:x
globalOutstandingLimit=8
`),
    );
    assert.deepEqual(options, {
      globalOutstandingLimit: 8,
      extendedTypesEnabled: true,
      fourLetterWordsWhitelist: ["ruok"],
      superDigest: "super:x",
    });
  });

  it("reads a session timeout of -1 as unset, as ZooKeeper does", () => {
    const options = optionsFromConfig(
      parseZooCfg("minSessionTimeout=4000\nminSessionTimeout=-1\n"),
    );
    assert.deepEqual(options, {});
  });

  it("reads the whitelist as ZooKeeper does: trimmed, empty entries dropped, * anywhere", () => {
    const whitelist = (value: string) =>
      optionsFromConfig(new Map([["4lw.commands.whitelist", value]])).fourLetterWordsWhitelist;
    assert.deepEqual(whitelist(" ruok ,, srvr,"), ["ruok", "srvr"]);
    assert.deepEqual(whitelist(""), []);
    assert.equal(whitelist("ruok, *"), "*");
  });

  it("refuses a malformed number, naming the key and the value", () => {
    refuses(
      () => optionsFromConfig(new Map([["tickTime", "2s"]])),
      /^tickTime: "2s" is not an integer$/,
    );
    refuses(
      () => optionsFromConfig(new Map([["clientPort", ""]])),
      /clientPort: "" is not an integer/,
    );
    refuses(() => optionsFromConfig(new Map([["maxClientCnxns", "1.5"]])), /maxClientCnxns: "1.5"/);
    refuses(() => optionsFromConfig(new Map([["clientPort", "0x10"]])), /clientPort: "0x10"/);
    refuses(
      () => optionsFromConfig(new Map([["jute.maxbuffer", "4294967296"]])),
      /jute.maxbuffer: "4294967296" is out of range/,
    );
  });

  it("refuses a malformed boolean and an empty string", () => {
    refuses(
      () => optionsFromConfig(new Map([["extendedTypesEnabled", "yes"]])),
      /extendedTypesEnabled: "yes" is not true or false/,
    );
    refuses(() => optionsFromConfig(new Map([["dataDir", ""]])), /dataDir: "" is empty/);
  });

  it("names the key as the caller describes it (e.g. a command-line flag)", () => {
    refuses(
      () => optionsFromConfig(new Map([["clientPort", "x"]]), (key) => `--${key}`),
      /^--clientPort: "x" is not an integer$/,
    );
  });
});

describe("resolveOptions", () => {
  it("fills Apache ZooKeeper 3.8's defaults", () => {
    assert.deepEqual(resolveOptions(), {
      clientPort: 2181,
      clientPortAddress: "0.0.0.0",
      tickTime: 3000,
      minSessionTimeout: 6000,
      maxSessionTimeout: 60000,
      maxClientCnxns: 60,
      juteMaxBuffer: 0xfffff,
      globalOutstandingLimit: 1000,
      fourLetterWordsWhitelist: ["srvr"],
      enforceQuota: false,
      extendedTypesEnabled: false,
      containerCheckIntervalMs: 60000,
      containerMaxPerMinute: 10000,
      sessionlessConnectionTimeoutMs: 10000,
      sasl: {
        saslProvider: false,
        enforceAuthSchemes: [],
        saslAuthRequired: false,
        superUsers: [],
        allowSaslFailedClients: false,
        principalRules: { defaultRealm: "", removeHost: false, removeRealm: false },
      },
      forceSync: true,
      snapCount: 100000,
      snapSizeLimitInKb: 4194304,
      preAllocSizeKb: 65536,
      autopurgeSnapRetainCount: 3,
      autopurgePurgeIntervalHours: 0,
      // ZooKeeper's AdminServer is on by default; `zkts server` keeps that (see
      // test/cli/server.test.ts), a server started from code opens no port it was not asked for.
      adminEnableServer: false,
      adminServerAddress: "0.0.0.0",
      adminServerPort: 8080,
      adminCommandUrl: "/commands",
      metricsProviderClassName: "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
      metricsProviderHttpHost: "0.0.0.0",
      metricsProviderHttpPort: 7000,
      metricsProviderExportJvmInfo: true,
    });
    assert.equal(DEFAULTS.tickTime, 3000);
  });

  it("refuses a metrics provider ZooKeeper does not ship and a command URL that is no path", () => {
    refuses(
      () => resolveOptions({ metricsProviderClassName: "com.example.Metrics" }),
      /^metricsProvider\.className: "com\.example\.Metrics" is not a metrics provider/,
    );
    refuses(() => resolveOptions({ adminCommandUrl: "commands" }), /^admin\.commandURL must/);
    refuses(() => resolveOptions({ adminServerPort: 65536 }), /^admin\.serverPort must be/);
    assert.equal(resolveOptions({ adminCommandUrl: "/cmds/" }).adminCommandUrl, "/cmds");
  });

  it("derives the session timeout bounds from tickTime unless they are set", () => {
    const resolved = resolveOptions({ tickTime: 100 });
    assert.equal(resolved.minSessionTimeout, 200);
    assert.equal(resolved.maxSessionTimeout, 2000);
    const set = resolveOptions({ tickTime: 100, minSessionTimeout: 50, maxSessionTimeout: 90 });
    assert.equal(set.minSessionTimeout, 50);
    assert.equal(set.maxSessionTimeout, 90);
  });

  it("always enables srvr, as ZooKeeper does, and keeps *", () => {
    assert.deepEqual(
      resolveOptions({ fourLetterWordsWhitelist: ["ruok"] }).fourLetterWordsWhitelist,
      ["ruok", "srvr"],
    );
    assert.deepEqual(resolveOptions({ fourLetterWordsWhitelist: [] }).fourLetterWordsWhitelist, [
      "srvr",
    ]);
    assert.equal(resolveOptions({ fourLetterWordsWhitelist: "*" }).fourLetterWordsWhitelist, "*");
  });

  it("keeps superDigest and dataDir when given", () => {
    const resolved = resolveOptions({ superDigest: "super:abc=", dataDir: "/d" });
    assert.equal(resolved.superDigest, "super:abc=");
    assert.equal(resolved.dataDir, "/d");
  });

  it('reads forceSync as ZooKeeper does (only "no" turns it off) and keeps 3 snapshots at least', () => {
    const forceSync = (value: string) =>
      optionsFromConfig(new Map([["forceSync", value]])).forceSync;
    assert.equal(forceSync("no"), false);
    assert.equal(forceSync("NO"), false);
    assert.equal(forceSync("yes"), true);
    assert.equal(forceSync("false"), true);
    assert.equal(resolveOptions({ autopurgeSnapRetainCount: 1 }).autopurgeSnapRetainCount, 3);
    assert.equal(
      resolveOptions({ autopurgePurgeIntervalHours: -1 }).autopurgePurgeIntervalHours,
      0,
    );
    refuses(() => resolveOptions({ snapCount: 1 }), /snapCount must be an integer >= 2/);
  });

  it("refuses a port out of range", () => {
    refuses(
      () => resolveOptions({ clientPort: 65536 }),
      /clientPort must be an integer in 0..65535, got 65536/,
    );
    refuses(() => resolveOptions({ clientPort: -1 }), /clientPort/);
    refuses(() => resolveOptions({ clientPort: 1.5 }), /clientPort/);
    assert.equal(resolveOptions({ clientPort: 0 }).clientPort, 0);
  });

  it("refuses a tickTime that is not positive", () => {
    refuses(() => resolveOptions({ tickTime: 0 }), /tickTime must be an integer >= 1, got 0/);
    refuses(() => resolveOptions({ tickTime: -5 }), /tickTime/);
  });

  it("refuses minSessionTimeout > maxSessionTimeout, also when one is a default", () => {
    refuses(
      () => resolveOptions({ minSessionTimeout: 5000, maxSessionTimeout: 4000 }),
      /minSessionTimeout \(5000\) must not be larger than maxSessionTimeout \(4000\)/,
    );
    refuses(() => resolveOptions({ tickTime: 100, minSessionTimeout: 2001 }), /must not be larger/);
  });

  it("refuses other nonsense, naming the setting by its zoo.cfg name", () => {
    refuses(() => resolveOptions({ maxClientCnxns: -1 }), /^maxClientCnxns must be/);
    refuses(() => resolveOptions({ juteMaxBuffer: 0 }), /^jute.maxbuffer must be/);
    refuses(() => resolveOptions({ globalOutstandingLimit: 0 }), /^globalOutstandingLimit must be/);
    refuses(
      () => resolveOptions({ containerCheckIntervalMs: 0 }),
      /^znode.container.checkIntervalMs/,
    );
    refuses(() => resolveOptions({ containerMaxPerMinute: 0 }), /^znode.container.maxPerMinute/);
    refuses(() => resolveOptions({ clientPortAddress: "" }), /^clientPortAddress/);
    refuses(() => resolveOptions({ clientPortAddress: "a b" }), /^clientPortAddress/);
    refuses(
      () => resolveOptions({ superDigest: "nocolon" }),
      /^superDigest must be "user:base64digest"/,
    );
    refuses(() => resolveOptions({ dataDir: "" }), /^dataDir/);
  });

  it("resolves what optionsFromConfig read from the sample zoo.cfg", () => {
    const resolved = resolveOptions(optionsFromConfig(parseZooCfg(SAMPLE)));
    assert.equal(resolved.tickTime, 2000);
    assert.equal(resolved.minSessionTimeout, 4000);
    assert.equal(resolved.maxSessionTimeout, 40000);
    assert.deepEqual(resolved.fourLetterWordsWhitelist, ["ruok", "stat", "mntr", "srvr"]);
  });
});
