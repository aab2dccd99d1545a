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
    // Eight bytes a step: b gains 8·a and each byte weighted by how many sums it enters; fewer
    // dependent additions than a byte at a time, about twice as fast. The sums exceed 32 bits
    // before the reduction, which doubles hold exactly.
    for (const last = stop - 8; i <= last; i += 8) {
      const x0 = bytes[i] as number;
      const x1 = bytes[i + 1] as number;
      const x2 = bytes[i + 2] as number;
      const x3 = bytes[i + 3] as number;
      const x4 = bytes[i + 4] as number;
      const x5 = bytes[i + 5] as number;
      const x6 = bytes[i + 6] as number;
      const x7 = bytes[i + 7] as number;
      b += 8 * a + 8 * x0 + 7 * x1 + 6 * x2 + 5 * x3 + 4 * x4 + 3 * x5 + 2 * x6 + x7;
      a += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
    }
    for (; i < stop; i++) {
      a += bytes[i] as number;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return ((b << 16) | a) >>> 0;
}
