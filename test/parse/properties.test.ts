// Property tests (fast-check): parsers are total, iptables-save text round-trips rule by rule through the
// model, and a kubectl table of random widths and values reads back to its cells.
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IptablesRuleset } from '../../src/model/iptables.js';
import { createIptablesSaveParser, parseIptablesSave } from '../../src/parse/iptables-save.js';
import { serializeIptablesRule } from '../../src/parse/iptables-write.js';
import { parseKinds } from '../../src/parse/kinds.js';
import { parseKubectlTable } from '../../src/parse/kubectl-table.js';
import { parse, parseKind } from '../../src/parse/parse.js';
import { hasUnsafeText } from '../../src/parse/text.js';

const fixtures = new URL('../fixtures/', import.meta.url).pathname;

// Pieces of real output, so random texts look like the real thing often enough to reach deep code paths.
const vocabulary = [
  '-A KUBE-SVC-X',
  '-m comment --comment "a b"',
  '--probability 0.5',
  '-j DNAT --to-destination 10.0.0.1:80',
  '! -s 10.0.0.0/8',
  '*nat',
  ':KUBE-SEP-Y - [0:0]',
  'COMMIT',
  '[12:34]',
  'Chain INPUT (policy ACCEPT)',
  'target     prot opt source               destination',
  'ACCEPT     all  --  anywhere             anywhere             /* c */',
  'NAME   READY   STATUS',
  'NAMESPACE   NAME',
  'kuard-1   1/1   Running   0   2m',
  '<none>',
  'apiVersion: v1',
  'kind: Service',
  '{"cniVersion": "0.3.0", "plugins": [',
  '{"commandLine":["/kuard"],"env":{"HOSTNAME":"x"}}',
  '1: lo: <LOOPBACK,UP> mtu 65536 state UNKNOWN',
  '    inet 127.0.0.1/8 scope host lo',
  'eth0      Link encap:Ethernet  HWaddr 4E:C8:47:58:DF:76',
  'default via 10.0.0.1 dev eth0',
  '$ kubectl get pods',
  'ubuntu@ip-10-0-23-3:~$ iptables-save',
  '"',
  '\\',
  '\u001b[31m',
  '\u202e',
  '\u0085',
  '\t',
  '\r',
  '',
];
const piece = fc.oneof(
  fc.constantFrom(...vocabulary),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const line = fc
  .tuple(fc.array(piece, { maxLength: 6 }), fc.constantFrom(' ', '   ', ''))
  .map(([p, sep]) => p.join(sep));
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.array(line, { maxLength: 25 }).map((l) => l.join('\n')),
);

/** Every string in a parsed value (keys too). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  return out;
}

describe('every parser is total', () => {
  for (const kind of parseKinds) {
    it(`${kind} never throws and reports well-formed diagnostics`, () => {
      fc.assert(
        fc.property(text, (t) => {
          const r = parseKind(kind, t);
          expect(r.kind).toBe(kind);
          for (const d of r.diagnostics) {
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.column).toBeGreaterThanOrEqual(1);
            expect(d.code).toMatch(/^[a-z0-9-]+$/);
          }
          // Fields in the value never carry raw controls: nothing a terminal would act on.
          for (const s of strings(r.value)) expect(hasUnsafeText(s), JSON.stringify(s)).toBe(false);
        }),
        { numRuns: 150 },
      );
    });
  }
  it('detect + parse never throws, and unclaimed text is "unparsed", not an error', () => {
    fc.assert(
      fc.property(
        text,
        fc.option(fc.constantFrom('kubectl get pods -o wide', 'sudo iptables-save -t nat', 'ls', 'echo hi')),
        (t, command) => {
          const r = parse({ text: t, ...(command ? { command } : {}) });
          if (r.kind === 'unparsed') expect(r.diagnostics.every((d) => d.severity !== 'error')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('a huge single line is handled quickly and its fields are cut with a diagnostic', () => {
    const big = `-A X -m comment --comment "${'x'.repeat(100_000)}" -j ACCEPT\n`;
    const r = parseIptablesSave(big, { table: 'filter' });
    const rule = r.value.tables.filter!.chains.X!.rules[0]!;
    expect(rule.comment!.length).toBe(4096);
    expect(r.diagnostics.map((d) => d.code)).toContain('field-too-long');
  });
});

// ---- iptables-save round trip ----

const name = fc.stringMatching(/^[A-Z][A-Z0-9-]{0,28}$/);
const ip = fc
  .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }))
  .map(([a, b, c, d, m]) => `${a}.${b}.${c}.${d}/${m}`);
const commentText = fc.stringMatching(/^[ -~]{0,40}$/);
const rule = fc.record({
  chain: name,
  source: fc.option(fc.tuple(fc.boolean(), ip)),
  destination: fc.option(fc.tuple(fc.boolean(), ip)),
  inInterface: fc.option(fc.tuple(fc.boolean(), fc.stringMatching(/^[a-z][a-z0-9]{0,6}\+?$/))),
  protocol: fc.option(fc.tuple(fc.boolean(), fc.constantFrom('tcp', 'udp', 'sctp'))),
  comment: fc.option(commentText),
  probability: fc.option(fc.double({ min: 0, max: 1, noNaN: true }).map((p) => p.toFixed(11))),
  dport: fc.option(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 65535 }))),
  target: fc.option(fc.tuple(fc.constantFrom('-j', '-g'), name)),
  dnat: fc.option(fc.tuple(ip, fc.integer({ min: 1, max: 65535 }))),
});
type R = typeof rule extends fc.Arbitrary<infer T> ? T : never;

/** The rule as iptables-save would print it: basic options first, then matches, then the target. */
function render(r: R): string {
  const out = ['-A', r.chain];
  const opt = (negated: boolean, ...words: string[]): void => {
    if (negated) out.push('!');
    out.push(...words);
  };
  if (r.source) opt(r.source[0], '-s', r.source[1]);
  if (r.destination) opt(r.destination[0], '-d', r.destination[1]);
  if (r.inInterface) opt(r.inInterface[0], '-i', r.inInterface[1]);
  if (r.protocol || r.dport) opt(r.protocol?.[0] ?? false, '-p', r.protocol?.[1] ?? 'tcp');
  if (r.comment !== null)
    out.push('-m', 'comment', '--comment', `"${r.comment.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  if (r.probability !== null) out.push('-m', 'statistic', '--mode', 'random', '--probability', r.probability);
  if (r.dport) {
    out.push('-m', r.protocol?.[1] ?? 'tcp');
    opt(r.dport[0], '--dport', String(r.dport[1]));
  }
  if (r.dnat) out.push('-j', 'DNAT', '--to-destination', `${r.dnat[0].split('/')[0]}:${r.dnat[1]}`);
  else if (r.target) out.push(r.target[0], r.target[1]);
  return out.join(' ');
}

function rulesOf(
  rs: IptablesRuleset,
): [string, (typeof rs.tables)[string]['chains'][string]['rules'][number]][] {
  return Object.values(rs.tables).flatMap((t) =>
    Object.entries(t.chains).flatMap(([c, ch]) => ch.rules.map((x) => [c, x] as [string, typeof x])),
  );
}

describe('iptables-save round trip', () => {
  it('text → model → text gives back each rule, and the model holds the right fields', () => {
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 20 }), (rs) => {
        const lines = rs.map(render);
        const res = parseIptablesSave(`*filter\n${lines.join('\n')}\nCOMMIT\n`);
        expect(res.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const parsed = rulesOf(res.value).sort((a, b) => a[1].line - b[1].line);
        expect(parsed.length).toBe(rs.length);
        parsed.forEach(([chain, x], i) => {
          const r = rs[i]!;
          expect(serializeIptablesRule(chain, x)).toBe(lines[i]);
          expect(x.source).toBe(r.source?.[1] ?? null);
          expect(x.destination).toBe(r.destination?.[1] ?? null);
          expect(x.comment).toBe(r.comment);
          expect(x.probability).toBe(r.probability === null ? null : Number(r.probability));
          expect(x.dport).toBe(r.dport ? String(r.dport[1]) : null);
          expect(x.negations.includes('source')).toBe(r.source?.[0] ?? false);
          if (r.dnat) expect(x.toDestination).toBe(`${r.dnat[0].split('/')[0]}:${r.dnat[1]}`);
          else if (r.target) {
            expect(x.target).toBe(r.target[1]);
            expect(x.targetKind).toBe(r.target[0] === '-g' ? 'goto' : 'jump');
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  it('every rule of the real iptables-save fixtures prints back exactly', () => {
    const dir = join(fixtures, 'iptables-save');
    let n = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.txt'))) {
      const res = parseIptablesSave(readFileSync(join(dir, f), 'utf8'));
      for (const [chain, x] of rulesOf(res.value)) {
        expect(serializeIptablesRule(chain, x)).toBe(x.raw);
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  it('the incremental parser gives the same result for any chunking', () => {
    const dump = readFileSync(join(fixtures, 'iptables-save/captured-kube-proxy-current.txt'), 'utf8');
    const whole = parseIptablesSave(dump);
    fc.assert(
      fc.property(fc.array(fc.nat(dump.length), { maxLength: 30 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const p = createIptablesSaveParser();
        let prev = 0;
        for (const c of [...at, dump.length]) {
          p.push(dump.slice(prev, c));
          prev = c;
        }
        expect(p.end()).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });
});

// ---- kubectl tables ----

describe('kubectl table columns', () => {
  const header = fc.uniqueArray(fc.stringMatching(/^[A-Z][A-Z0-9-]{0,8}( [A-Z][A-Z0-9-]{0,6})?$/), {
    minLength: 2,
    maxLength: 8,
  });
  // A cell: no leading/trailing space, never two spaces in a row (kubectl never prints one so).
  const cell = fc.stringMatching(/^[!-~]{1,12}( [!-~]{1,6})?$/);
  it('a table of random widths and values parses back to its rows', () => {
    fc.assert(
      fc.property(
        header,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 3, max: 6 }),
        fc.infiniteStream(cell),
        (hdr, nRows, padding, cells) => {
          const columns = ['NAME', ...hdr.filter((h) => h !== 'NAME' && h !== 'NAMESPACE')];
          const rows = Array.from({ length: nRows }, () => columns.map(() => cells.next().value as string));
          const all = [columns, ...rows];
          const widths = columns.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
          const textOut = all
            .map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]! + padding) : c)).join(''))
            .join('\n');
          const res = parseKubectlTable(textOut + '\n');
          expect(res.value.tables?.[0]?.columns).toEqual(columns);
          expect(res.value.tables?.[0]?.rows).toEqual(rows);
        },
      ),
      { numRuns: 200 },
    );
  });
});
