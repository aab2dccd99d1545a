/**
 * The x509 scheme's id: a client certificate's subject as ZooKeeper's X509AuthenticationProvider
 * names it, `getSubjectX500Principal().getName()`, which is Java's RFC 2253 form:
 *
 *     CN=alice,OU=eng,O=zkts     (most specific RDN first; no spaces after the commas)
 *
 * Node's own renderings (`X509Certificate.subject`, `getPeerCertificate().subject`) are in the
 * certificate's order, or an object that loses multi-valued RDNs, and escape differently, so an
 * ACL written for ZooKeeper would not match. This reads the subject from the certificate's DER
 * and writes it as Java's sun.security.x509.AVA.toRFC2253String does: the RFC 2253 keywords by
 * name and every other attribute as a dotted OID with `#` and the hex of its DER value; the
 * characters `,=+<>#;"\` escaped with a backslash anywhere, NUL as `\00`, leading and trailing
 * spaces escaped; everything else (non-ASCII included) left as it is.
 */

/** The keywords Java writes in RFC 2253 form (AVAKeyword with its RFC2253 flag). */
const RFC2253_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ["2.5.4.3", "CN"],
  ["2.5.4.6", "C"],
  ["2.5.4.7", "L"],
  ["2.5.4.8", "ST"],
  ["2.5.4.9", "STREET"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["0.9.2342.19200300.100.1.25", "DC"],
  ["0.9.2342.19200300.100.1.1", "UID"],
]);

/** DER string types Java renders as text (AVA.isDerString, non-canonical). */
const STRING_TAGS: ReadonlySet<number> = new Set([0x0c, 0x13, 0x14, 0x16, 0x1b, 0x1e]);
const ESCAPED = ',=+<>#;"\\';

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

interface Tlv {
  readonly tag: number;
  /** Where the tag byte is. */
  readonly start: number;
  /** Where the contents start and end. */
  readonly contents: number;
  readonly end: number;
}

export class CertificateFormatError extends Error {
  override readonly name = "CertificateFormatError";
}

/** The subject of a DER certificate, as Java's X500Principal.getName() (RFC 2253). */
export function subjectName(der: Uint8Array): string {
  const certificate = readTlv(der, 0, SEQUENCE);
  const tbs = readTlv(der, certificate.contents, SEQUENCE);
  let at = tbs.contents;
  const first = readTlv(der, at);
  if (first.tag === 0xa0) at = first.end; // [0] version
  // serialNumber, signature, issuer, validity; then subject.
  for (let skip = 0; skip < 4; skip++) at = readTlv(der, at).end;
  return nameToRfc2253(der, readTlv(der, at, SEQUENCE));
}

function nameToRfc2253(der: Uint8Array, name: Tlv): string {
  const rdns: string[] = [];
  for (let at = name.contents; at < name.end; ) {
    const rdn = readTlv(der, at, SET);
    const avas: string[] = [];
    for (let inner = rdn.contents; inner < rdn.end; ) {
      const ava = readTlv(der, inner, SEQUENCE);
      const type = readTlv(der, ava.contents, OID);
      const value = readTlv(der, type.end);
      avas.push(avaToRfc2253(der, oidText(der.subarray(type.contents, type.end)), value));
      inner = ava.end;
    }
    rdns.push(avas.join("+"));
    at = rdn.end;
  }
  return rdns.reverse().join(",");
}

function avaToRfc2253(der: Uint8Array, oid: string, value: Tlv): string {
  const keyword = RFC2253_KEYWORDS.get(oid);
  if (keyword === undefined || !STRING_TAGS.has(value.tag)) {
    const hex = Buffer.from(der.subarray(value.start, value.end)).toString("hex");
    return `${keyword ?? oid}=#${hex}`;
  }
  // Java decodes every string type's bytes as UTF-8 here (so does this).
  const text = Buffer.from(der.subarray(value.contents, value.end)).toString("utf8");
  return `${keyword}=${escapeValue(text)}`;
}

function escapeValue(text: string): string {
  const chars: string[] = [];
  for (const c of text) {
    if (ESCAPED.includes(c)) chars.push(`\\${c}`);
    else if (c === "\u0000") chars.push("\\00");
    else chars.push(c);
  }
  const blank = (c: string) => c === " " || c === "\r";
  let lead = 0;
  while (lead < chars.length && blank(chars[lead]!)) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && blank(chars[trail]!)) trail--;
  return chars.map((c, i) => (i < lead || i > trail ? `\\${c}` : c)).join("");
}

function oidText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new CertificateFormatError("empty OID");
  const first = bytes[0]!;
  const arcs: number[] = [];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i]!;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const top = first < 80 ? Math.floor(first / 40) : 2;
  return [top, first - top * 40, ...arcs].join(".");
}

function readTlv(der: Uint8Array, start: number, expectTag?: number): Tlv {
  if (start + 2 > der.length) throw new CertificateFormatError("certificate ends early");
  const tag = der[start]!;
  if (expectTag !== undefined && tag !== expectTag) {
    throw new CertificateFormatError(`expected tag 0x${expectTag.toString(16)} at ${start}`);
  }
  let length = der[start + 1]!;
  let contents = start + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new CertificateFormatError(`bad length at ${start}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contents + i]!;
    contents += count;
  }
  const end = contents + length;
  if (end > der.length) throw new CertificateFormatError(`length past the end at ${start}`);
  return { tag, start, contents, end };
}

/** Keywords java.security X500Principal(String) knows (RFC 1779, 2253 and its own). */
const PRINCIPAL_KEYWORDS: ReadonlySet<string> = new Set([
  "CN",
  "C",
  "L",
  "S",
  "ST",
  "O",
  "OU",
  "T",
  "IP",
  "STREET",
  "DC",
  "DNQUALIFIER",
  "DNQ",
  "SURNAME",
  "GIVENNAME",
  "INITIALS",
  "GENERATION",
  "EMAIL",
  "EMAILADDRESS",
  "UID",
  "SERIALNUMBER",
]);

/**
 * X509AuthenticationProvider.isValid: whether `new X500Principal(id)` would take it. This is
 * a close reading, not Java's parser: attribute=value pairs separated by `,`, `;` or `+`, each
 * attribute a known keyword or a dotted OID, values plain (with backslash escapes), quoted, or
 * `#hex`. The empty name is valid, as in Java.
 */
export function isValidDistinguishedName(name: string): boolean {
  if (name.trim() === "") return true;
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "\\" && !quoted) {
      if (i + 1 >= name.length) return false;
      current += c + name[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (!quoted && (c === "," || c === ";" || c === "+")) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  if (quoted) return false;
  parts.push(current);
  return parts.every(validAttribute);
}

function validAttribute(part: string): boolean {
  const eq = part.indexOf("=");
  if (eq < 0) return false;
  const type = part.slice(0, eq).trim();
  const value = part.slice(eq + 1).trim();
  const oid = /^(?:OID\.)?\d+(?:\.\d+)+$/i.test(type);
  if (!oid && !PRINCIPAL_KEYWORDS.has(type.toUpperCase())) return false;
  if (value.startsWith("#")) return /^#(?:[0-9a-fA-F]{2})+$/.test(value);
  if (value.startsWith('"')) return value.length >= 2 && value.endsWith('"');
  return true;
}
