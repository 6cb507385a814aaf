// INFO replies, read as "key:value" lines (section headers and blank lines skipped).

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The "k=v,k=v" values of INFO (slave0, db0, ...). */
export function parseInfoFields(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of value.split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
