/**
 * CRC-32 (IEEE 802.3, java.util.zip.CRC32), which ZooKeeper's DigestCalculator uses for the
 * per-node digests a snapshot's tree digest sums. Node 20's zlib does not expose it.
 *
 * Slicing-by-8: eight 256-entry tables, so that the main loop takes 8 bytes per step with 8
 * independent lookups instead of 8 dependent ones; the tail goes a byte at a time.
 */
const TABLES = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = TABLES[n] as number;
  for (let t = 1; t < 8; t++) {
    c = (TABLES[c & 0xff] as number) ^ (c >>> 8);
    TABLES[t * 256 + n] = c;
  }
}

/** CRC-32 of `bytes`, continuing from `crc` (0 for a fresh checksum). Unsigned 32-bit. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return crc32Range(bytes, 0, bytes.length, crc);
}

/** CRC-32 of bytes[start, end), continuing from `crc` (0 for a fresh checksum). Unsigned. */
export function crc32Range(bytes: Uint8Array, start: number, end: number, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  for (const stop = end - 7; i < stop; i += 8) {
    const lo =
      c ^
      ((bytes[i] as number) |
        ((bytes[i + 1] as number) << 8) |
        ((bytes[i + 2] as number) << 16) |
        ((bytes[i + 3] as number) << 24));
    c =
      (t[1792 + (lo & 0xff)] as number) ^
      (t[1536 + ((lo >>> 8) & 0xff)] as number) ^
      (t[1280 + ((lo >>> 16) & 0xff)] as number) ^
      (t[1024 + (lo >>> 24)] as number) ^
      (t[768 + (bytes[i + 4] as number)] as number) ^
      (t[512 + (bytes[i + 5] as number)] as number) ^
      (t[256 + (bytes[i + 6] as number)] as number) ^
      (t[bytes[i + 7] as number] as number);
  }
  for (; i < end; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC-32 of a string's UTF-8 bytes, continuing from `crc`, without encoding it when it is
 * ASCII (every path a client is likely to use).
 */
export function crc32Utf8(text: string, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return crc32(Buffer.from(text.slice(i), "utf8"), ~c >>> 0);
    c = (t[(c ^ code) & 0xff] as number) ^ (c >>> 8);
  }
  return ~c >>> 0;
}
