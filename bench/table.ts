/**
 * The one results table of `npm run bench`. A bench file reports figures
 * here (each with every sample it took, so min and median show the machine's
 * noise, and its goal); the runner prints them as one table and writes
 * `bench/results.json`.
 *
 *   import { figure } from './table.ts';
 *   figure('CLI', { name: 'per call, CLI --json / raw loop', unit: 'x', samples: ratios, goal: { max: 2 } });
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Lower is better unless `min` is given. `below` is strict (<), `max` inclusive (<=). */
export type Goal = { max: number } | { below: number } | { min: number };

export interface Figure {
  name: string;
  /** 'x' for ratios, 'ms', 'us', 'B/call', ... */
  unit: string;
  /** One per run: the table shows min and median, the goal is judged on the median. */
  samples: number[];
  goal?: Goal;
  /** Shown after the figures: what was compared, absolute numbers. */
  detail?: string;
  digits?: number;
}

export interface Row extends Figure {
  section: string;
  min: number;
  median: number;
  pass: boolean | undefined;
}

const rows: Row[] = [];

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function meets(value: number, goal: Goal): boolean {
  if ('max' in goal) return value <= goal.max;
  if ('below' in goal) return value < goal.below;
  return value >= goal.min;
}

/** Reports one figure of `section` (a bench file's title). */
export function figure(section: string, f: Figure): Row {
  if (!f.samples.length || f.samples.some(s => !Number.isFinite(s))) throw new Error(`${section}: ${f.name}: no samples (${f.samples.join(', ')})`);
  const m = median(f.samples);
  const row: Row = { ...f, section, min: Math.min(...f.samples), median: m, pass: f.goal ? meets(m, f.goal) : undefined };
  rows.push(row);
  return row;
}

export function reported(): readonly Row[] {
  return rows;
}

function num(v: number, unit: string, digits?: number): string {
  const d = digits ?? (unit === 'x' ? 2 : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return `${v.toFixed(d)}${unit === 'x' ? 'x' : ''}`;
}

function goalText(g: Goal | undefined, unit: string): string {
  if (!g) return '';
  const u = unit === 'x' ? '' : ` ${unit}`;
  if ('max' in g) return `<= ${num(g.max, unit)}${u}`;
  if ('below' in g) return `< ${num(g.below, unit)}${u}`;
  return `>= ${num(g.min, unit)}${u}`;
}

export function formatTable(all: readonly Row[] = rows): string {
  const head = ['figure', 'unit', 'min', 'median', 'n', 'goal', ''];
  const body: string[][] = [];
  let section = '';
  const sections: number[] = [];
  for (const r of all) {
    if (r.section !== section) {
      section = r.section;
      sections.push(body.length);
      body.push([r.section]);
    }
    body.push([`  ${r.name}`, r.unit === 'x' ? '' : r.unit, num(r.min, r.unit, r.digits), num(r.median, r.unit, r.digits), String(r.samples.length), goalText(r.goal, r.unit), r.pass === undefined ? '' : r.pass ? 'ok' : 'MISSED']);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter((_, j) => !sections.includes(j)).map(b => (b[i] ?? '').length)));
  const right = new Set([2, 3, 4]);
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(head).trimEnd(), widths.map(w => '-'.repeat(w)).join('  ')];
  body.forEach((b, j) => {
    if (sections.includes(j)) out.push(b[0]!);
    else {
      const r = all[j - sections.filter(s => s < j).length]!;
      out.push(r.detail ? `${line(b)}  ${r.detail}` : line(b).trimEnd());
    }
  });
  const missed = all.filter(r => r.pass === false).length;
  out.push('', `${all.filter(r => r.goal).length - missed} of ${all.filter(r => r.goal).length} goals met (judged on the median)${missed ? `; ${missed} MISSED` : ''}`);
  return out.join('\n');
}

export function writeResults(path: string, extra: Record<string, unknown> = {}): void {
  const doc = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: loadavg() },
    ...extra,
    figures: rows.map(r => ({
      section: r.section, name: r.name, unit: r.unit, min: r.min, median: r.median, samples: r.samples,
      goal: r.goal ?? null, pass: r.pass ?? null, detail: r.detail ?? null,
    })),
  };
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
}
