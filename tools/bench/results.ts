import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';

export interface Goal {
  readonly name: string;
  readonly value: number;
  readonly goal: string;
  readonly met: boolean;
}

type Cell = string | number;

const COLUMNS = ['benchmark', 'measure', 'broker', 'baseline', 'ratio', 'goal'] as const;

const format = (value: Cell): string =>
  typeof value === 'string'
    ? value
    : Math.abs(value) >= 100
      ? Math.round(value).toLocaleString('en-US')
      : value.toFixed(2);

/** What a run measured: the table rows, the goals and whether each was met, and the raw numbers. */
export class Results {
  private readonly rows: string[][] = [];
  readonly goals: Goal[] = [];
  readonly sections: Record<string, unknown> = {};
  readonly failures: { section: string; error: string }[] = [];

  constructor(
    readonly quick: boolean,
    readonly startedAt = new Date(),
  ) {}

  row(cells: Partial<Record<(typeof COLUMNS)[number], Cell>>): void {
    this.rows.push(COLUMNS.map((c) => (cells[c] === undefined ? '' : format(cells[c]))));
  }

  /** Records a goal of the form value ≥ min; returns the goal cell for the table. */
  atLeast(name: string, value: number, min: number): string {
    return this.goal(name, value, `>= ${min}`, value >= min);
  }

  /** Records a goal of the form value ≤ max; returns the goal cell for the table. */
  atMost(name: string, value: number, max: number, unit = ''): string {
    return this.goal(name, value, `<= ${max}${unit}`, value <= max);
  }

  failed(section: string, error: unknown): void {
    const message = (error instanceof Error ? error.message : String(error))
      .split('\n')[0]!
      .slice(0, 200);
    this.failures.push({ section, error: message });
    this.row({ benchmark: section, measure: `FAILED: ${message}` });
  }

  table(): string {
    const widths = COLUMNS.map((c, i) => Math.max(c.length, ...this.rows.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]) =>
      cells
        .map((cell, i) => (i >= 2 && i <= 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    const header = [line(COLUMNS), line(widths.map((w) => '-'.repeat(w)))];
    const met = this.goals.filter((g) => g.met).length;
    const summary = `goals met: ${met} of ${this.goals.length}${
      met < this.goals.length
        ? ` (NOT MET: ${this.goals
            .filter((g) => !g.met)
            .map((g) => g.name)
            .join(', ')})`
        : ''
    }`;
    return [...header, ...this.rows.map(line), '', summary].join('\n');
  }

  write(path: string, wallSeconds: number): void {
    mkdirSync(dirname(path), { recursive: true });
    const document = {
      startedAt: this.startedAt.toISOString(),
      quick: this.quick,
      wallSeconds: Math.round(wallSeconds),
      machine: { cpus: cpus().length, node: process.version },
      goals: this.goals,
      failures: this.failures,
      sections: this.sections,
      table: this.table().split('\n'),
    };
    writeFileSync(path, `${JSON.stringify(document, null, 2)}\n`);
  }

  private goal(name: string, value: number, goal: string, met: boolean): string {
    this.goals.push({ name, value: Number(value.toFixed(3)), goal, met });
    return `${goal} ${met ? 'met' : 'NOT MET'}`;
  }
}
