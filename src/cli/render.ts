// Tables and key/value views. Styled (bold headers, separators) only on a terminal without
// NO_COLOR; piped output is plain aligned text that awk and cut can read.
import {stdoutIsStyled, terminalWidth} from './terminal';

export interface Column<R> {
  header: string;
  get: (row: R) => string;
}

const PLAIN_CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

const GAP = 2;

export function table<R>(rows: R[], columns: Column<R>[], options: {width?: number; styled?: boolean} = {}): string {
  const styled = options.styled ?? stdoutIsStyled();
  const width = options.width ?? terminalWidth();
  const cells = rows.map((row) => columns.map((c) => c.get(row) ?? ''));
  const headers = columns.map((c) => c.header);
  const widths = fitWidths(
    columns.map((_, i) => Math.max(headers[i].length, ...cells.map((r) => r[i].length))),
    width,
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Table: typeof import('cli-table3') = require('cli-table3');
  const t = new Table({
    head: styled ? headers.map(bold) : headers,
    chars: PLAIN_CHARS,
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  for (const row of cells) t.push(row);
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Shrinks the widest columns until the table fits; a table never wraps the terminal's lines. */
export function fitWidths(natural: number[], width?: number): number[] {
  const widths = [...natural];
  if (!width) return widths;
  const budget = width - GAP * (widths.length - 1);
  const min = 6;
  while (widths.reduce((a, b) => a + b, 0) > budget) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= min) break;
    widths[widest]--;
  }
  return widths;
}

/** Status view: one "Key  value" line per field, keys aligned; values wrap under themselves. */
export function keyValue(pairs: [string, string][], options: {width?: number; styled?: boolean} = {}): string {
  const styled = options.styled ?? stdoutIsStyled();
  const width = options.width ?? terminalWidth();
  const keyWidth = Math.max(...pairs.map(([k]) => k.length));
  const valueWidth = width ? Math.max(20, width - keyWidth - GAP) : Infinity;
  const lines: string[] = [];
  for (const [key, value] of pairs) {
    const chunks = wrap(value, valueWidth);
    const label = key.padEnd(keyWidth);
    lines.push(`${styled ? bold(label) : label}${' '.repeat(GAP)}${chunks[0]}`.trimEnd());
    for (const chunk of chunks.slice(1)) lines.push(`${' '.repeat(keyWidth + GAP)}${chunk}`);
  }
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length <= width) {
      out.push(line);
      continue;
    }
    for (let i = 0; i < line.length; i += width) out.push(line.slice(i, i + width));
  }
  return out.length ? out : [''];
}

function bold(text: string): string {
  return `\u001B[1m${text}\u001B[22m`;
}
