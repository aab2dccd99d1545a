/**
 * Figures into text, shared by the benchmarks that print side-by-side tables
 * (bench:durability, bench:ensemble): quantiles, milliseconds, ratios, aligned columns.
 */
import os from "node:os";

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  return ms < 1
    ? ms.toFixed(3)
    : ms < 10
      ? ms.toFixed(2)
      : ms < 1000
        ? ms.toFixed(1)
        : ms.toFixed(0);
}

export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? "-"
    : (a / b).toFixed(2);

export function table(
  header: readonly string[],
  rows: readonly string[][],
  leftColumns: number,
): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}
