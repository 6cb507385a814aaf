// Tables and key/value views. Styled (bold headers, separators) only on a terminal without
// NO_COLOR; piped output is plain aligned text that awk and cut can read.
import {stdoutIsStyled, terminalWidth} from './terminal';

export interface Column<R> {
  header: string;
  get: (row: R) => string;
  /** Never cut (ids, names a user copies): the column is dropped whole rather than shortened. */
  keep?: boolean;
  /** Dropped to fit a narrow terminal, highest first; a column without it is never dropped. */
  drop?: number;
}

const GAP = 2;
/** The narrowest a cut column gets; never narrower than its header either. */
const MIN_CUT = 5;
const ELLIPSIS = '\u2026';

/**
 * Aligned columns, no borders. At a terminal's width (options.width, default the terminal's;
 * none when piped) it fits: the widest cuttable column is shortened first, down to its header
 * (cells end in "…"),
 * then whole columns are left out by their `drop` rank. Cells never wrap, so a line never breaks
 * an escape code or a value in two. Styling (bold headers) is added after fitting.
 */
export function table<R>(rows: R[], columns: Column<R>[], options: {width?: number; styled?: boolean} = {}): string {
  const styled = options.styled ?? stdoutIsStyled();
  const width = options.width ?? terminalWidth();
  const cells = rows.map((row) => columns.map((c) => oneLine(c.get(row) ?? '')));
  const natural = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const shown = fitColumns(columns, natural, width);
  const line = (values: string[], bolden: boolean) =>
    shown
      .map(({index, width: w}, n) => {
        const text = cut(values[index], w);
        const padded = n === shown.length - 1 ? text : text.padEnd(w);
        return bolden ? bold(padded) : padded;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(columns.map((c) => c.header), styled), ...cells.map((r) => line(r, false))].join('\n');
}

/** Which columns to show and how wide, so that the line fits `width` (see table()). */
export function fitColumns<R>(columns: Column<R>[], natural: number[], width?: number): {index: number; width: number}[] {
  let shown = columns.map((_, index) => ({index, width: natural[index]}));
  if (!width) return shown;
  const total = () => shown.reduce((sum, c) => sum + c.width, 0) + GAP * (shown.length - 1);
  for (;;) {
    while (total() > width) {
      const cuttable = shown.filter((c) => !columns[c.index].keep && c.width > Math.max(MIN_CUT, columns[c.index].header.length));
      if (cuttable.length === 0) break;
      const widest = cuttable.reduce((a, b) => (b.width > a.width ? b : a));
      widest.width--;
    }
    if (total() <= width) return shown;
    const droppable = shown.filter((c) => columns[c.index].drop !== undefined);
    if (droppable.length === 0) return shown;
    const first = droppable.reduce((a, b) => (columns[b.index].drop! > columns[a.index].drop! ? b : a));
    // Start again from natural widths: the room freed may let cut columns grow back.
    shown = shown.filter((c) => c !== first).map((c) => ({index: c.index, width: natural[c.index]}));
  }
}

/** The widths fitColumns gives to columns that may all be cut and none dropped. */
export function fitWidths(natural: number[], width?: number): number[] {
  return fitColumns(natural.map((_, i) => ({header: String(i), get: () => ''})), natural, width).map((c) => c.width);
}

function cut(text: string, w: number): string {
  return text.length <= w ? text : `${text.slice(0, Math.max(0, w - 1))}${ELLIPSIS}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Status view: one "Key  value" line per field, keys aligned; long values wrap under themselves
 *  at spaces, never inside a word (a URL is never broken). */
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

/** Wraps at spaces only: a word longer than the width (a URL) stays whole on its own line, so
 *  what a person copies from the terminal is the whole value. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    for (const word of line.split(' ')) {
      if (current && current.length + 1 + word.length > width) {
        out.push(current);
        current = word;
      } else {
        current = current ? `${current} ${word}` : word;
      }
    }
    out.push(current);
  }
  return out.length ? out : [''];
}

function bold(text: string): string {
  return `\u001B[1m${text}\u001B[22m`;
}
