// Integration: the parsers against the real iptables and iproute2 of this machine, live, inside a throwaway
// network namespace (no route out; removed in afterAll even on failure). Needs root.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpAddr, parseIpRoute } from '../../src/parse/addresses.js';
import { parseIptablesList } from '../../src/parse/iptables-list.js';
import { createIptablesSaveParser, parseIptablesSave } from '../../src/parse/iptables-save.js';
import { serializeIptablesRule } from '../../src/parse/iptables-write.js';

const ns = `ldparse-${process.pid}-it`;
const run = (argv: string[], input?: string): string =>
  execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
const inNs = (argv: string[], input?: string): string => run(['ip', 'netns', 'exec', ns, ...argv], input);
const rules = readFileSync(new URL('../../scripts/capture/kube-proxy-current.rules', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n');

beforeAll(() => {
  run(['ip', 'netns', 'add', ns]);
  inNs(['iptables-restore'], rules);
});
afterAll(() => {
  run(['ip', 'netns', 'del', ns]);
});

describe('live iptables in a throwaway namespace', () => {
  it('iptables-save output parses without errors, rule for rule, and prints back exactly', () => {
    const dump = inNs(['iptables-save']);
    const r = parseIptablesSave(dump);
    expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    expect(r.value.backend).toBe('nf_tables');
    const svc = r.value.tables.nat!.chains['KUBE-SVC-CUXC5A3HHHVSSN62']!;
    expect(svc.rules.map((x) => x.probability)).toEqual([null, 0.33333333349, 0.5, null, null, null]);
    expect(svc.rules[1]!.comment).toBe('default/kuard:http -> 10.244.1.5:8080');
    const restoredLines = dump.split('\n').filter((l) => l.startsWith('-A '));
    const printed = Object.values(r.value.tables).flatMap((t) =>
      Object.entries(t.chains).flatMap(([c, ch]) => ch.rules.map((x) => serializeIptablesRule(c, x))),
    );
    expect(printed.sort()).toEqual(restoredLines.sort());
  });

  it('what we print, iptables-restore accepts, and iptables-save prints the same again', () => {
    const dump = inNs(['iptables-save']);
    const r = parseIptablesSave(dump);
    const ns2 = `${ns}2`;
    run(['ip', 'netns', 'add', ns2]);
    try {
      const text = Object.entries(r.value.tables)
        .map(([name, t]) => {
          const decl = Object.entries(t.chains).map(([c, ch]) => `:${c} ${ch.policy ?? '-'} [0:0]`);
          const body = Object.entries(t.chains).flatMap(([c, ch]) =>
            ch.rules.map((x) => serializeIptablesRule(c, x)),
          );
          return [`*${name}`, ...decl, ...body, 'COMMIT'].join('\n');
        })
        .join('\n');
      run(['ip', 'netns', 'exec', ns2, 'iptables-restore'], text + '\n');
      const again = run(['ip', 'netns', 'exec', ns2, 'iptables-save']);
      const strip = (s: string): string[] => s.split('\n').filter((l) => !l.startsWith('#'));
      expect(strip(again)).toEqual(strip(dump));
    } finally {
      run(['ip', 'netns', 'del', ns2]);
    }
  });

  it('the incremental parser reads iptables-save as it streams', () => {
    const dump = inNs(['iptables-save']);
    const p = createIptablesSaveParser();
    for (let i = 0; i < dump.length; i += 97) p.push(dump.slice(i, i + 97));
    expect(p.end()).toEqual(parseIptablesSave(dump));
  });

  it('iptables -L -n -v --line-numbers and -t nat -L agree with iptables-save on chains and targets', () => {
    const save = parseIptablesSave(inNs(['iptables-save', '-t', 'nat'])).value.tables.nat!;
    const list = parseIptablesList(inNs(['iptables', '-t', 'nat', '-L', '-n', '-v', '--line-numbers']), {
      table: 'nat',
    });
    expect(list.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const listed = list.value.tables.nat!;
    expect(Object.keys(listed.chains).sort()).toEqual(Object.keys(save.chains).sort());
    for (const [name, ch] of Object.entries(save.chains)) {
      expect(listed.chains[name]!.rules.map((x) => x.target)).toEqual(ch.rules.map((x) => x.target));
      expect(listed.chains[name]!.rules.map((x) => x.probability)).toEqual(
        ch.rules.map((x) => x.probability),
      );
    }
  });

  it('ip addr and ip route of the namespace', () => {
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    const a = parseIpAddr(inNs(['ip', 'addr']));
    expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(a.value.interfaces[0]).toMatchObject({ name: 'lo', index: 1, state: 'UNKNOWN', mtu: 65536 });
    expect(a.value.interfaces[0]!.addresses[0]).toMatchObject({
      family: 'inet',
      address: '127.0.0.1',
      prefixLength: 8,
    });
    const r = parseIpRoute(inNs(['ip', 'route', 'show', 'table', 'local']));
    expect(r.value.routes.some((x) => x.type === 'local' && x.destination === '127.0.0.1')).toBe(true);
  });
});
