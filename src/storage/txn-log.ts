/**
 * Transaction log files in ZooKeeper 3.8's format (FileTxnLog, Util, FilePadding):
 *
 *   file   := FileHeader{magic int "ZKLG", version int 2, dbid long 0} entry* zeros
 *   entry  := checksum long (Adler-32 of bytes) · length int · bytes · 'B' (0x42, end of record)
 *   bytes  := TxnHeader · txn record · [TxnDigest]          (txn-codec.ts)
 *
 * A file is named `log.<first zxid in lower-case hex>` and is preallocated with zeros in blocks
 * (64 MiB by default): an entry of length 0 (a zero checksum and length) is where the log ends.
 *
 * Reading tells a torn tail (a crash mid-append: the last record short, or its checksum or end
 * marker wrong, with nothing but zeros after it) from corruption before the tail (a bad record
 * followed by more data), which names the file and the offset of the bad record.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { FileHeader, Writer } from "../jute/index.js";
import { adler32 } from "./adler32.js";
import {
  deserializeTxn,
  type LoggedTxn,
  type LoggedTxnDigest,
  type LoggedTxnHeader,
  serializeTxn,
  type TxnEntry,
} from "./txn-codec.js";

/** FileTxnLog.TXNLOG_MAGIC: "ZKLG" as a big-endian int. */
export const TXNLOG_MAGIC = 0x5a4b4c47;
export const TXNLOG_VERSION = 2;
export const LOG_FILE_PREFIX = "log";
/** zookeeper.preAllocSize's default, 64 MiB (the setting is in KiB). */
export const DEFAULT_PREALLOC_BYTES = 64 * 1024 * 1024;
/** FileHeader: int + int + long. */
export const FILE_HEADER_BYTES = 16;
/** The end-of-record marker Util.writeTxnBytes writes after every entry. */
export const END_OF_RECORD = 0x42;
/** checksum long + length int before the bytes; the marker after. */
const ENTRY_OVERHEAD = 8 + 4 + 1;

/** `log.<hex zxid>`, as Util.makeLogName names it. */
export function logFileName(zxid: bigint): string {
  return `${LOG_FILE_PREFIX}.${zxid.toString(16)}`;
}

/** The zxid in a `log.<hex>` name, or undefined if the name is not a log's. */
export function zxidOfLogFile(name: string): bigint | undefined {
  const match = /^log\.([0-9a-fA-F]{1,16})$/.exec(basename(name));
  return match ? BigInt(`0x${match[1]}`) : undefined;
}

/** The log files in `logDir`, oldest first, by the zxid in their names. */
export function listLogs(logDir: string): { file: string; zxid: bigint }[] {
  const logs: { file: string; zxid: bigint }[] = [];
  for (const name of readdirSync(logDir)) {
    const zxid = zxidOfLogFile(name);
    if (zxid !== undefined) logs.push({ file: join(logDir, name), zxid });
  }
  return logs.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/**
 * FilePadding.calculateFileSizeWithPadding: within 4 KiB of the preallocated end, grow the file
 * by one block (or, when already past it, to the block boundary after position + one block).
 */
export function paddedFileSize(position: number, fileSize: number, preAllocBytes: number): number {
  if (preAllocBytes > 0 && position + 4096 >= fileSize) {
    if (position > fileSize) {
      const size = position + preAllocBytes;
      return size - (size % preAllocBytes);
    }
    return fileSize + preAllocBytes;
  }
  return fileSize;
}

/** The bytes of one log entry: checksum, length, the marshalled txn, end-of-record marker. */
export function encodeLogEntry(bytes: Buffer): Buffer {
  return encodeLogEntries([bytes]);
}

/**
 * The log entries of several marshalled txns, one after the other, in one buffer: a group
 * commit's batch, written in place rather than entry by entry and then concatenated.
 */
export function encodeLogEntries(txns: readonly Buffer[]): Buffer {
  let length = 0;
  for (const bytes of txns) length += ENTRY_OVERHEAD + bytes.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const bytes of txns) {
    // The checksum is a long holding an unsigned 32-bit Adler-32: its high word is 0.
    out.writeUInt32BE(0, at);
    out.writeUInt32BE(adler32(bytes), at + 4);
    out.writeInt32BE(bytes.length, at + 8);
    out.set(bytes, at + 12);
    at += 12 + bytes.length;
    out[at++] = END_OF_RECORD;
  }
  return out;
}

export interface TxnLogWriterOptions {
  /** Preallocation block in bytes; 0 turns preallocation off. Default 64 MiB. */
  preAllocBytes?: number;
  /** FileHeader.dbid; ZooKeeper writes 0. */
  dbid?: bigint;
}

/**
 * Appends txns to one new log file. Writes go straight to the file (no user-space buffer);
 * sync() makes everything appended so far durable.
 */
export class TxnLogWriter {
  readonly file: string;
  /** The open file, for writers that write reserved ranges themselves (group commit). */
  readonly fd: number;
  private readonly preAllocBytes: number;
  private position: number;
  private fileSize: number;
  private closed = false;

  /** Creates `dir/log.<hex firstZxid>` (it must not exist) and writes its FileHeader. */
  constructor(dir: string, firstZxid: bigint, options: TxnLogWriterOptions = {}) {
    this.file = join(dir, logFileName(firstZxid));
    this.preAllocBytes = options.preAllocBytes ?? DEFAULT_PREALLOC_BYTES;
    this.fd = openSync(this.file, "wx");
    const header = new Writer(FILE_HEADER_BYTES);
    FileHeader.write(header, {
      magic: TXNLOG_MAGIC,
      version: TXNLOG_VERSION,
      dbid: options.dbid ?? 0n,
    });
    const bytes = header.take();
    writeSync(this.fd, bytes, 0, bytes.length, 0);
    this.position = bytes.length;
    this.fileSize = bytes.length;
  }

  /** Appends one txn; returns the offset its entry starts at. */
  append(header: LoggedTxnHeader, txn: LoggedTxn, digest?: LoggedTxnDigest): number {
    return this.appendBytes(serializeTxn(header, txn, digest));
  }

  /** Appends an already marshalled txn (serializeTxn's bytes). */
  appendBytes(bytes: Buffer): number {
    if (this.closed) throw new Error(`${this.file} is closed`);
    if (bytes.length === 0) throw new Error("an empty txn would read as the end of the log");
    this.pad();
    const entry = encodeLogEntry(bytes);
    const at = this.position;
    writeSync(this.fd, entry, 0, entry.length, at);
    this.position += entry.length;
    return at;
  }

  /**
   * Reserves `length` bytes of encoded entries (encodeLogEntry) at the end, growing the
   * preallocated file first; returns where they go. The caller writes them there.
   */
  reserve(length: number): number {
    if (this.closed) throw new Error(`${this.file} is closed`);
    this.pad(length);
    const at = this.position;
    this.position += length;
    return at;
  }

  /** Where the next entry goes: the log's logical size. */
  get size(): number {
    return this.position;
  }

  /** fsync: every entry appended so far is on disk. */
  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** FilePadding.padFile: extend the file with zeros (one byte at the new end) when near its end. */
  private pad(length = 0): void {
    // A batch may be longer than the 4 KiB slack ZooKeeper pads ahead by: grow past its end.
    const size = paddedFileSize(this.position + length, this.fileSize, this.preAllocBytes);
    if (size !== this.fileSize) {
      writeSync(this.fd, Buffer.alloc(1), 0, 1, size - 1);
      this.fileSize = size;
    }
  }
}

/** A txn read from a log, with where its entry starts. */
export interface LogEntry extends TxnEntry {
  readonly offset: number;
}

/** Where a log's last record was cut short by a crash, and why it is taken for torn. */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly reason: string;
}

export interface TxnLogContents {
  readonly file: string;
  readonly dbid: bigint;
  readonly entries: LogEntry[];
  /** The offset after the last whole entry: where appending (or truncation) would go. */
  readonly end: number;
  /** Set when the log ends in a torn record, which starts at `end`. */
  readonly torn?: TornTail;
}

/** A log that cannot be trusted: a bad header, or a bad record with more data after it. */
export class TxnLogCorruptError extends Error {
  override name = "TxnLogCorruptError";
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, reason: string) {
    super(`${file}: corrupt transaction log at offset ${offset}: ${reason}`);
    this.file = file;
    this.offset = offset;
  }
}

function allZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Reads a whole log file (see readTxnLogBytes). */
export function readTxnLog(file: string): TxnLogContents {
  return readTxnLogBytes(file, readFileSync(file));
}

/**
 * Reads a log's entries up to its end: a zero length (the preallocated zeros) or the end of the
 * file. A bad record with only zeros after it is a torn tail; one with data after it throws
 * TxnLogCorruptError naming the file and the record's offset.
 */
export function readTxnLogBytes(file: string, bytes: Buffer): TxnLogContents {
  const reader = new TxnLogReader(file, bytes);
  const entries: LogEntry[] = [];
  for (let entry = reader.next(); entry !== undefined; entry = reader.next()) entries.push(entry);
  const { dbid, end, torn } = reader;
  return torn === undefined ? { file, dbid, entries, end } : { file, dbid, entries, end, torn };
}

/** A TxnHeader starts clientId long · cxid int · zxid long: the zxid is at byte 12. */
const ZXID_IN_TXN = 12;

/**
 * A log's entries one at a time, with readTxnLogBytes's checks: what recovery uses, so that a
 * log of a million records is never held decoded at once. Entries whose zxid is at most
 * `skipThrough` (those a snapshot already covers) are checked (length, checksum, end marker)
 * but not decoded and not returned. Once next() returns undefined, `end` and `torn` are set.
 */
export class TxnLogReader {
  readonly file: string;
  readonly dbid: bigint;
  /** The offset after the last whole entry; set when next() has returned undefined. */
  end = -1;
  /** Set when the log ends in a torn record, which starts at `end`. */
  torn: TornTail | undefined;
  private readonly bytes: Buffer;
  private readonly skipThrough: bigint | undefined;
  private offset = FILE_HEADER_BYTES;
  private done = false;

  constructor(file: string, bytes: Buffer, skipThrough?: bigint) {
    if (bytes.length < FILE_HEADER_BYTES) {
      throw new TxnLogCorruptError(file, 0, `${bytes.length} bytes is shorter than a file header`);
    }
    const magic = bytes.readInt32BE(0);
    const version = bytes.readInt32BE(4);
    if (magic !== TXNLOG_MAGIC) {
      throw new TxnLogCorruptError(file, 0, `bad magic 0x${(magic >>> 0).toString(16)}`);
    }
    if (version !== TXNLOG_VERSION) {
      throw new TxnLogCorruptError(file, 4, `unsupported version ${version}`);
    }
    this.file = file;
    this.dbid = bytes.readBigInt64BE(8);
    this.bytes = bytes;
    this.skipThrough = skipThrough;
  }

  /** The next entry (after skipThrough), or undefined at the end of the log. */
  next(): LogEntry | undefined {
    if (this.done) return undefined;
    const { bytes, file } = this;
    for (;;) {
      const offset = this.offset;
      const left = bytes.length - offset;
      if (left === 0) return this.finish();
      if (left < 12) {
        if (allZero(bytes, offset)) return this.finish();
        return this.bad(`${left} bytes, too few for an entry's checksum and length`, bytes.length);
      }
      const length = bytes.readInt32BE(offset + 8);
      if (length === 0) {
        if (bytes.readInt32BE(offset) === 0 && bytes.readInt32BE(offset + 4) === 0) {
          return this.finish();
        }
        return this.bad("a checksum with a zero length", offset + 12);
      }
      if (length < 0) return this.bad(`negative entry length ${length}`, offset + 12);
      const start = offset + 12;
      const stop = start + length;
      if (stop + 1 > bytes.length) {
        return this.bad(`entry of ${length} bytes runs past the end of the file`, bytes.length);
      }
      const body = bytes.subarray(start, stop);
      const actual = adler32(body);
      // A Java long holding an unsigned 32-bit value: compare without a bigint per entry.
      if (bytes.readInt32BE(offset) !== 0 || bytes.readUInt32BE(offset + 4) !== actual) {
        return this.bad(
          `checksum mismatch (stored 0x${bytes.readBigInt64BE(offset).toString(16)}, computed 0x${actual.toString(16)})`,
          stop + 1,
        );
      }
      if (bytes[stop] !== END_OF_RECORD) {
        return this.bad(
          `end-of-record marker is 0x${bytes[stop]?.toString(16)}, not 'B'`,
          stop + 1,
        );
      }
      this.offset = stop + 1;
      const skip = this.skipThrough;
      if (
        skip !== undefined &&
        length >= ZXID_IN_TXN + 8 &&
        bytes.readBigInt64BE(start + ZXID_IN_TXN) <= skip
      ) {
        continue;
      }
      let entry: TxnEntry;
      try {
        entry = deserializeTxn(Buffer.from(body));
      } catch (error) {
        // The checksum held, so these are the bytes that were written: not a torn write.
        throw new TxnLogCorruptError(file, offset, `undecodable txn: ${(error as Error).message}`);
      }
      return { ...entry, offset };
    }
  }

  private finish(): undefined {
    this.done = true;
    this.end = this.offset;
    return undefined;
  }

  /** A bad record at the current offset whose data (if any) runs to `after`: torn if zeros follow. */
  private bad(reason: string, after: number): undefined {
    const { bytes, file, offset } = this;
    if (after >= bytes.length || allZero(bytes, after)) {
      this.torn = { file, offset, reason };
      return this.finish();
    }
    this.done = true;
    throw new TxnLogCorruptError(file, offset, reason);
  }
}
