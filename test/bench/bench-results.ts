/** Shared by the benchmarks: timing with a sampled RSS high-water mark, and results JSON under results/. */

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';

export const RESULTS_DIR = new URL('./results/', import.meta.url);

/** Node version, CPU model and count, memory: printed with every result so numbers can be compared. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

/** Write `results/<name>.json` (with machine info and a timestamp) and print it. */
export async function writeResult(name: string, data: Record<string, unknown>): Promise<void> {
  const report = { ...data, machine: machineInfo(), at: new Date().toISOString() };
  console.log(`${name}:`, JSON.stringify(report, null, 2));
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL(`${name}.json`, RESULTS_DIR), `${JSON.stringify(report, null, 2)}\n`);
}

export interface Measured<T> {
  ms: number;
  /** Highest RSS seen while `fn` ran (sampled every 5 ms, plus before and after), in MiB. */
  peakRssMb: number;
  result: T;
}

/**
 * Time one async call and track its RSS high-water mark. Sampled in-process because the process-wide
 * maxRSS never goes down between sizes; synchronous stretches are covered by the samples around them.
 */
export async function measure<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  try {
    const result = await fn();
    const ms = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { ms: round(ms), peakRssMb: round(peak / 2 ** 20), result };
  } finally {
    clearInterval(timer);
  }
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}
