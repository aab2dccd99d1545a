/**
 * CRC-32 (IEEE 802.3, java.util.zip.CRC32), which ZooKeeper's DigestCalculator uses for the
 * per-node digests a snapshot's tree digest sums. Node 20's zlib does not expose it.
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** CRC-32 of `bytes`, continuing from `crc` (0 for a fresh checksum). Unsigned 32-bit. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) {
    c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return ~c >>> 0;
}
