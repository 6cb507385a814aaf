// INFO replies, read as "key:value" lines (section headers and blank lines skipped).

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

