import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { Rate } from './measure.js';

export interface BenchRow {
  /** Which of the benchmark's measurements (1 to 5). */
  section: string;
  name: string;
  ours: string;
  baseline: string;
  /** ours ÷ baseline, or for differences ours − baseline. */
  ratio: number;
  /** e.g. "≥ 0.9", or "reported" when the row has no target. */
  target: string;
  met: boolean | null;
  /** Throughput rows: this process's CPU time per event, µs (far steadier than a rate on a shared machine). */
  oursCpuUs?: number;
  baselineCpuUs?: number;
}

export class BenchReport {
  readonly rows: BenchRow[] = [];
  private readonly started = new Date();

  add(row: Omit<BenchRow, 'met'> & { met?: boolean | null }): void {
    const complete = { ...row, met: row.met ?? null };
    this.rows.push(complete);
    const mark = complete.met === null ? '' : complete.met ? '  ok' : '  MISSED';
    console.log(
      `  ${row.name}: ${row.ours}${cpu(row.oursCpuUs)} vs ${row.baseline}${cpu(row.baselineCpuUs)} → ${format(row.ratio)} (target ${row.target})${mark}`,
    );
  }

  /**
   * A throughput row: ours against the baseline, each a rate with its CPU µs per event; met when the ratio of the
   * rates reaches `atLeast` (without one, the row is reported).
   */
  addRates(row: {
    section: string;
    name: string;
    ours: Rate;
    baseline: Rate;
    /** e.g. 'ev/s'; the baseline's when it counts something else ('rows/s'). */
    unit: string;
    baselineUnit?: string;
    atLeast?: number;
  }): void {
    const ratio = row.ours.rate / row.baseline.rate;
    this.add({
      section: row.section,
      name: row.name,
      ours: `${n(row.ours.rate)} ${row.unit}`,
      baseline: `${n(row.baseline.rate)} ${row.baselineUnit ?? row.unit}`,
      ratio,
      target: row.atLeast === undefined ? 'reported' : `≥ ${row.atLeast}`,
      met: row.atLeast === undefined ? null : ratio >= row.atLeast,
      oursCpuUs: row.ours.cpu,
      baselineCpuUs: row.baseline.cpu,
    });
  }

  machine() {
    const cpu = cpus();
    return {
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    };
  }

  /** Prints the table and writes it with the date and the machine to `path`. */
  finish(path: URL, extra: Record<string, unknown>): void {
    console.table(
      this.rows.map((r) => ({
        section: r.section,
        measurement: r.name,
        ours: r.ours + cpu(r.oursCpuUs),
        baseline: r.baseline + cpu(r.baselineCpuUs),
        ratio: format(r.ratio),
        target: r.target,
        met: r.met === null ? '-' : r.met ? 'yes' : 'NO',
      })),
    );
    const missed = this.rows.filter((r) => r.met === false).length;
    writeFileSync(
      path,
      `${JSON.stringify({ date: this.started.toISOString(), machine: this.machine(), ...extra, rows: this.rows, missed }, null, 2)}\n`,
    );
    console.log(missed === 0 ? 'All targets met.' : `${missed} target(s) missed.`);
  }

  /** The table as Markdown, for the README. */
  markdown(): string {
    const m = this.machine();
    const lines = [
      `Measured ${this.started.toISOString().slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node.slice(1)}:`,
      '',
      '| # | measurement | ours | baseline | ratio | target | met |',
      '|---|---|---|---|---|---|---|',
      ...this.rows.map(
        (r) =>
          `| ${r.section.split(' ')[0]} | ${r.name} | ${r.ours}${cpu(r.oursCpuUs)} | ${r.baseline}${cpu(r.baselineCpuUs)} | ${format(r.ratio)} | ${r.target} | ${r.met === null ? '–' : r.met ? 'yes' : '**no**'} |`,
      ),
    ];
    return lines.join('\n');
  }
}

export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(3);
}

/** A number with thousands separated, for the table. */
export function n(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** ` (12.3 µs CPU/ev)` beside a rate, or nothing. */
function cpu(us: number | undefined): string {
  return us === undefined ? '' : ` (${us.toFixed(1)} µs CPU/ev)`;
}
