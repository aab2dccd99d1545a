/**
 * Adler-32 (RFC 1950), the checksum ZooKeeper's FileTxnLog puts before every log entry
 * (java.util.zip.Adler32, whose getValue() is the unsigned 32-bit value). Node's zlib does not
 * expose it, so it is computed here as zlib does: sums mod 65521, reduced every 5552 bytes, the
 * most that cannot overflow 32 bits.
 */
const MOD = 65521;
const NMAX = 5552;

/** Adler-32 of `bytes`, continuing from `adler` (1 for a fresh checksum). Unsigned 32-bit. */
export function adler32(bytes: Uint8Array, adler = 1): number {
  let a = adler & 0xffff;
  let b = (adler >>> 16) & 0xffff;
  let i = 0;
  const length = bytes.length;
  while (i < length) {
    const stop = Math.min(i + NMAX, length);
    for (; i < stop; i++) {
      a += bytes[i] as number;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
