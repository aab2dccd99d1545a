/**
 * Cutting the txn log back to a zxid (ZooKeeper's FileTxnLog.truncate, for Zab's TRUNC): every
 * entry after it goes. Later files are deleted; the file holding the cut is truncated right
 * after the last entry kept. The caller must not be writing to these files (roll first).
 */
import { readFileSync, truncateSync, unlinkSync } from "node:fs";
import { FILE_HEADER_BYTES, listLogs, TxnLogReader } from "./txn-log.js";

export function truncateTxnLogs(logDir: string, zxid: bigint): void {
  for (const { file, zxid: start } of listLogs(logDir)) {
    if (start > zxid) {
      unlinkSync(file);
      continue;
    }
    const bytes = readFileSync(file);
    if (bytes.length < FILE_HEADER_BYTES) continue;
    const reader = new TxnLogReader(file, bytes);
    let cut: number | undefined;
    for (let entry = reader.next(); entry !== undefined; entry = reader.next()) {
      if (entry.header.zxid > zxid) {
        cut = entry.offset;
        break;
      }
    }
    if (cut !== undefined) truncateSync(file, cut);
  }
}
