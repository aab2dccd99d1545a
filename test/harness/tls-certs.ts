/**
 * Test key material, made at test time with openssl (and keytool, for a Java truststore) in a
 * temporary directory: nothing is committed, nothing is fetched.
 *
 *     const certs = await makeCertificates();
 *     certs.server.pem   // key + certificate for 127.0.0.1 / localhost (ZooKeeper's PEM keystore)
 *     certs.clients.alice.subject   // "CN=alice,OU=eng,O=zkts" (RFC 2253, as Java names it)
 *     await certs.remove();
 *
 * One CA signs a server certificate (IP SAN 127.0.0.1, DNS SAN localhost) and the client
 * certificates; `stranger` is signed by a CA nobody trusts. EC P-256 keys: fast to make.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { removeAtExit } from "./child-processes.js";

const run = promisify(execFile);
export const STORE_PASSWORD = "zkts-secret";

export interface KeyPair {
  /** PEM files. */
  readonly keyFile: string;
  readonly certFile: string;
  /** Key and certificate in one PEM file (ZooKeeper's PEM keystore). */
  readonly pemFile: string;
  /** PKCS#12 with key, certificate and CA, password STORE_PASSWORD. */
  readonly p12File: string;
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The subject as Java's X500Principal.getName() writes it, where the test knows it. */
  readonly subject: string;
}

export interface Certificates {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  /** The CA as a JKS truststore made by keytool (password STORE_PASSWORD). */
  readonly caJksFile: string | undefined;
  readonly server: KeyPair;
  readonly clients: {
    readonly alice: KeyPair;
    readonly bob: KeyPair;
    /** A subject with every character RFC 2253 escapes, multi-valued RDNs and an email. */
    readonly carol: KeyPair;
    /** Signed by another CA. */
    readonly stranger: KeyPair;
  };
  remove(): Promise<void>;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** Makes the CA, server and client certificates; `keytool` (a path) also makes a JKS. */
export async function makeCertificates(options: { keytool?: string } = {}): Promise<Certificates> {
  const dir = await mkdtemp(join(tmpdir(), "zkts-tls-"));
  removeAtExit(dir);
  const file = (name: string) => join(dir, name);
  await makeCa(dir, "ca", "/CN=zkts test CA");
  await makeCa(dir, "other-ca", "/CN=someone else's CA");
  await writeFile(
    file("server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await writeFile(file("client.ext"), "extendedKeyUsage=clientAuth\n");
  const [server, alice, bob, carol, stranger] = await Promise.all([
    makeKeyPair(dir, "server", "/CN=localhost", "ca", "server.ext", "CN=localhost"),
    makeKeyPair(
      dir,
      "alice",
      "/O=zkts/OU=eng/CN=alice",
      "ca",
      "client.ext",
      "CN=alice,OU=eng,O=zkts",
    ),
    makeKeyPair(dir, "bob", "/O=zkts/CN=bob", "ca", "client.ext", "CN=bob,O=zkts"),
    makeKeyPair(
      dir,
      "carol",
      '/DC=org/DC=zkts/O=a\\,b\\+c=d#e;f<g>h"i\\\\j/OU=eng+UID=c1/CN= carol /emailAddress=carol@example.org',
      "ca",
      "client.ext",
      "",
    ),
    makeKeyPair(dir, "stranger", "/CN=stranger", "other-ca", "client.ext", "CN=stranger"),
  ]);
  let caJksFile: string | undefined;
  if (options.keytool !== undefined) {
    caJksFile = file("truststore.jks");
    await run(options.keytool, [
      "-importcert",
      "-noprompt",
      "-alias",
      "ca",
      "-file",
      file("ca.pem"),
      "-keystore",
      caJksFile,
      "-storetype",
      "JKS",
      "-storepass",
      STORE_PASSWORD,
    ]);
  }
  return {
    dir,
    caFile: file("ca.pem"),
    ca: readFileSync(file("ca.pem")),
    caJksFile,
    server: server!,
    clients: { alice: alice!, bob: bob!, carol: carol!, stranger: stranger! },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Key material for ensemble members (sslQuorum): each certificate serves and connects. */
export interface PeerCertificates {
  readonly dir: string;
  readonly caFile: string;
  /** For 127.0.0.1 and localhost. */
  readonly peer: KeyPair;
  /** Signed by the CA, but naming another host only (fails hostname verification here). */
  readonly elsewhere: KeyPair;
  /** For 127.0.0.1, signed by a CA the ensemble does not trust. */
  readonly stranger: KeyPair;
  remove(): Promise<void>;
}

export async function makePeerCertificates(): Promise<PeerCertificates> {
  const dir = await mkdtemp(join(tmpdir(), "zkts-quorum-tls-"));
  removeAtExit(dir);
  const file = (name: string) => join(dir, name);
  await makeCa(dir, "ca", "/CN=zkts quorum CA");
  await makeCa(dir, "other-ca", "/CN=someone else's CA");
  const usage = "extendedKeyUsage=serverAuth,clientAuth\n";
  await writeFile(file("here.ext"), `subjectAltName=IP:127.0.0.1,DNS:localhost\n${usage}`);
  await writeFile(file("elsewhere.ext"), `subjectAltName=DNS:zk.elsewhere.example\n${usage}`);
  const [peer, elsewhere, stranger] = await Promise.all([
    makeKeyPair(dir, "peer", "/CN=peer", "ca", "here.ext", "CN=peer"),
    makeKeyPair(dir, "elsewhere", "/CN=elsewhere", "ca", "elsewhere.ext", "CN=elsewhere"),
    makeKeyPair(dir, "stranger", "/CN=stranger", "other-ca", "here.ext", "CN=stranger"),
  ]);
  return {
    dir,
    caFile: file("ca.pem"),
    peer: peer!,
    elsewhere: elsewhere!,
    stranger: stranger!,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function makeCa(dir: string, name: string, subject: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    join(dir, `${name}.key`),
    "-out",
    join(dir, `${name}.pem`),
    "-subj",
    subject,
    "-days",
    "2",
  ]);
}

async function makeKeyPair(
  dir: string,
  name: string,
  subject: string,
  ca: string,
  extFile: string,
  rfc2253: string,
): Promise<KeyPair> {
  const file = (suffix: string) => join(dir, `${name}${suffix}`);
  await run("openssl", [
    "req",
    "-new",
    ...EC,
    "-multivalue-rdn",
    "-keyout",
    file(".key"),
    "-out",
    file(".csr"),
    "-subj",
    subject,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    file(".csr"),
    "-CA",
    join(dir, `${ca}.pem`),
    "-CAkey",
    join(dir, `${ca}.key`),
    "-set_serial",
    String(Math.floor(Math.random() * 1e9)),
    "-days",
    "2",
    "-extfile",
    join(dir, extFile),
    "-out",
    file(".pem"),
  ]);
  const key = readFileSync(file(".key"));
  const cert = readFileSync(file(".pem"));
  await writeFile(file("-keystore.pem"), Buffer.concat([key, cert]));
  await run("openssl", [
    "pkcs12",
    "-export",
    "-inkey",
    file(".key"),
    "-in",
    file(".pem"),
    "-certfile",
    join(dir, `${ca}.pem`),
    "-name",
    name,
    "-out",
    file(".p12"),
    "-passout",
    `pass:${STORE_PASSWORD}`,
  ]);
  return {
    keyFile: file(".key"),
    certFile: file(".pem"),
    pemFile: file("-keystore.pem"),
    p12File: file(".p12"),
    key,
    cert,
    subject: rfc2253,
  };
}
