// Test support (not shipped behaviour): a strict parser of Prometheus' text exposition format
// (version 0.0.4), so a test can prove that every line a scraper reads is well-formed. It throws on
// the first violation, naming the line: bad names, label syntax or escapes, values, a TYPE after
// samples or twice, a family split in two, a duplicate series, histograms whose buckets are not
// cumulative or lack +Inf, or a `_count` that differs from the +Inf bucket.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
  /** A TYPE line was seen (a second one is an error). */
  typed?: boolean;
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<Family['type'], string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
};

function parseValue(s: string, where: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  while (true) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\n') throw new Error(`${where}: raw newline in a label value`);
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`${where}: bad escape '\\${next}' in a label value`);
    }
    if (j >= text.length) throw new Error(`${where}: unterminated label value`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected ',' or '}' after a label`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  const familyOf = (name: string): Family | undefined => {
    for (const f of families.values()) if (SUFFIXES[f.type].some((s) => `${f.name}${s}` === name)) return f;
    return undefined;
  };
  const open = (name: string, where: string): Family => {
    if (closed.has(name)) throw new Error(`${where}: family ${name} appears again after another family`);
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    if (current && current !== f) closed.add(current.name);
    current = f;
    return f;
  };
  text
    .split('\n')
    .slice(0, -1)
    .forEach((line, n) => {
      const where = `line ${n + 1}`;
      if (line.trim() === '') return;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (!m) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!METRIC.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
        const f = open(name, where);
        if (kind === 'HELP') {
          if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          if (/\\[^n\\]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${where}: bad escape in HELP`);
          f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
        } else {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
          if (f.samples.length > 0 || f.type !== 'untyped' || f.typed)
            throw new Error(`${where}: TYPE for ${name} after its samples or twice`);
          f.type = rest as Family['type'];
          f.typed = true;
        }
        return;
      }
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!nameMatch) throw new Error(`${where}: a sample must start with a metric name`);
      const name = nameMatch[0];
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
      const parts = rest.split(' ');
      if (parts[0] !== '' || parts.length < 2 || parts.length > 3)
        throw new Error(`${where}: expected ' value [timestamp]' after the name and labels`);
      const value = parseValue(parts[1]!, where);
      if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: bad timestamp`);
      const fam = (current && familyOf(name) === current ? current : familyOf(name)) ?? open(name, where);
      if (fam !== current) open(fam.name, where);
      if (!SUFFIXES[fam.type].some((s) => `${fam.name}${s}` === name))
        throw new Error(`${where}: ${name} does not belong to ${fam.type} ${fam.name}`);
      const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
      series.add(key);
      fam.samples.push({ name, labels, value });
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
    if (s.labels.le === undefined) throw new Error(`${f.name}_bucket without le`);
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, buckets] of groups) {
    let prevLe = Number.NEGATIVE_INFINITY;
    let prev = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le!, `${f.name} le`);
      if (!(le > prevLe)) throw new Error(`${f.name}${key}: buckets not in increasing le order`);
      if (b.value < prev) throw new Error(`${f.name}${key}: buckets not cumulative`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = f.samples.find(
      (s) => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key,
    );
    if (!count || count.value !== prev) throw new Error(`${f.name}${key}: _count differs from +Inf bucket`);
  }
}
