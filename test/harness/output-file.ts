/** Reading a child process's output file as it grows (harnesses and benchmarks alike). */
import { readFileSync, statSync } from "node:fs";

/** The file's size, 0 if it is not there (yet, or any more). */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The file's text from `offset` on, or "" if it is not there (yet, or any more). */
export function readSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}
