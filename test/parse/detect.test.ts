import { describe, expect, it } from 'vitest';
import { commandInfo, shellWords } from '../../src/parse/command.js';
import { detect } from '../../src/parse/detect.js';
import { parseIptablesSave } from '../../src/parse/iptables-save.js';
import { parseKubectlObject } from '../../src/parse/kubectl-object.js';
import { parseKubectlTable } from '../../src/parse/kubectl-table.js';
import { parseKind } from '../../src/parse/parse.js';
import { FIELD_LIMIT, neutralise, hasUnsafe, hasUnsafeText, isUnsafeCode } from '../../src/parse/text.js';

describe('detect from a command line', () => {
  const cases: [string, string, Record<string, unknown>?][] = [
    ['kubectl get pods -o wide', 'kubectl-table', { resource: 'pods', wide: true }],
    ['kubectl get po -A --show-labels', 'kubectl-table', { allNamespaces: true, showLabels: true }],
    ['kubectl -n kube-system get pod', 'kubectl-table', { namespace: 'kube-system' }],
    ['kubectl get svc kuard -o yaml', 'kubectl-object'],
    ['kubectl get endpoints kuard --output=json', 'kubectl-object'],
    ['kubectl get pods -oname', 'kubectl-name'],
    [
      `kubectl get nodes -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}' | tr -s '[[:space:]]' '\\n'`,
      'kubectl-jsonpath',
    ],
    ['kubectl expose deployment kuard --type=LoadBalancer --port=80', 'kubectl-action'],
    ['sudo iptables-save -t nat', 'iptables-save', { table: 'nat' }],
    ['iptables-save | grep KUBE-SVC', 'iptables-save'],
    ['sudo ip netns exec ns1 iptables -t nat -nvL --line-numbers', 'iptables-list', { table: 'nat' }],
    ['iptables -S', 'iptables-save'],
    ['ip -br a', 'ip-addr'],
    ['ip -4 addr show dev eth0', 'ip-addr'],
    ['ip r', 'ip-route'],
    ['ifconfig', 'ifconfig'],
    ['cat /etc/cni/net.d/10-calico.conflist', 'cni-config'],
    ['sudo cat calico-kubeconfig', 'kubeconfig'],
    ['ls /opt/cni/bin', 'file-list'],
    ['curl 10.110.41.209:80/env/api', 'kuard-env'],
    ['wget -O - 192.168.49.6:8080/env/api', 'kuard-env'],
    ['kubectl exec -it kuard -- hostname', 'hostname'],
    ['./calico', 'cni-error'],
  ];
  for (const [cmd, kind, opts] of cases)
    it(`${cmd} → ${kind}`, () => {
      const d = detect({ command: cmd });
      expect(d.kind).toBe(kind);
      expect(d.confidence).toBeGreaterThan(0.3);
      if (opts) expect(d.command).toMatchObject(opts);
    });

  it('an unknown command is unparsed, not an error', () => {
    expect(detect({ command: 'echo hi', text: 'hi\n' }).kind).toBe('unparsed');
  });

  it('a pipeline stage that reshapes the output lowers the confidence', () => {
    const plain = commandInfo('iptables-save');
    const counted = commandInfo('iptables-save | wc -l');
    expect(counted.transformed).toBe(true);
    expect(counted.confidence).toBeLessThan(plain.confidence);
  });

  it('splits like a shell: quotes, escapes, pipes, and stops at ; and &&', () => {
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g | h; i`)).toEqual([['a', 'b c', 'd "e"', 'f g'], ['h']]);
    expect(shellWords('x && y')).toEqual([['x']]);
  });
});

describe('precise diagnostics', () => {
  it('iptables-save: an unclosed quote and a bad probability say line and column', () => {
    const r = parseIptablesSave(
      '*nat\n-A X -m comment --comment "open -j Y\n-A X -m statistic --probability 2 -j Y\nCOMMIT\n',
    );
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'iptables-unclosed-quote', severity: 'error', line: 2, column: 27 }),
    );
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'iptables-bad-probability', line: 3, column: 33 }),
    );
  });

  it('iptables-save: a table cut short (no COMMIT) is a warning, the rules are kept', () => {
    const r = parseIptablesSave('*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -j KUBE-SEP-Y\n');
    expect(r.value.tables.nat!.chains['KUBE-SVC-X']!.rules).toHaveLength(1);
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'iptables-missing-commit', severity: 'warning' }),
    );
  });

  it('yaml: a syntax error points at its line', () => {
    const r = parseKubectlObject('apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels: [a\n');
    const e = r.diagnostics.find((d) => d.severity === 'error');
    expect(e?.code).toMatch(/^yaml-/);
    expect(e?.line).toBeGreaterThanOrEqual(5);
  });

  it('kubectl table: a row shifted under the wrong header is read by nearest column, with a warning', () => {
    const t = 'NAME      READY   STATUS    RESTARTS   AGE\nkuard-1  1/1     Running   0          2m\n';
    const r = parseKubectlTable(t, { namespace: 'default' });
    expect(r.value.pods[0]).toMatchObject({
      namespace: 'default',
      name: 'kuard-1',
      ready: '1/1',
      status: 'Running',
    });
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'kubectl-column-misaligned', line: 2 }),
    );
  });
});

describe('neutralisation', () => {
  it('makes escapes, C1 controls and bidi overrides visible and inert', () => {
    expect(neutralise('a\u001b[31mb')).toBe('a\\x1b[31mb');
    expect(neutralise('x\u009by')).toBe('x\\x9by');
    expect(neutralise('abc\u202edef')).toBe('abc\\u202edef');
    expect(neutralise('plain text, tabs\tkept')).toBe('plain text, tabs\tkept');
  });

  it('a table cell with an escape comes out neutralised with a warning at its position', () => {
    const t =
      'NAME                 READY   STATUS    RESTARTS   AGE\nkuard\u001b]0;x\u0007      1/1     Running   0          1m\n';
    const r = parseKubectlTable(t, { resource: 'pods' });
    expect(r.value.pods[0]!.name).toBe('kuard\\x1b]0;x\\x07');
    expect(r.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'control-characters', line: 2, column: 1 }),
    );
  });

  it('iptables-save table names and chain policies with a bidi override come out neutralised, with a warning', () => {
    // found by the totality property (a random "*nat\u202e"): names that are not rule fields were kept raw
    const save = parseIptablesSave('*nat\u202e\n:INPUT ACC\u202eEPT [0:0]\nCOMMIT\n');
    expect(Object.keys(save.value.tables)).toEqual(['nat\\u202e']);
    expect(save.value.tables['nat\\u202e']!.chains.INPUT!.policy).toBe('ACC\\u202eEPT');
    const listed = parseIptablesSave('-P INPUT DR\u202eOP\n');
    expect(listed.value.tables.filter!.chains.INPUT!.policy).toBe('DR\\u202eOP');
    for (const r of [save, listed])
      expect(r.diagnostics).toContainEqual(expect.objectContaining({ code: 'control-characters' }));
  });

  it('iptables-save diagnostics quote the input neutralised (a random counters text with an escape found it)', () => {
    const r = parseIptablesSave(':KUBE-SEP-Y - [0:0]\u001b[31m\n');
    const bad = r.diagnostics.find((d) => d.code === 'iptables-bad-counters');
    expect(bad?.message).toBe('counters "[0:0]\\x1b[31m" are not [packets:bytes]');
    expect(r.diagnostics.some((d) => hasUnsafeText(d.message))).toBe(false);
  });

  it('a diagnostic quoting an error about the input is neutralised too (the totality property found a CNI one)', () => {
    const r = parseKind('cni-config', '{"cniVersion": "0.3.0", "plugins": [ \u001b[31m\n}');
    const bad = r.diagnostics.find((d) => d.code === 'json-syntax');
    expect(bad?.message).toContain('\\x1b[31m');
    expect(r.diagnostics.some((d) => hasUnsafeText(d.message))).toBe(false);
  });

  it('one definition of an unsafe character: the per-character test agrees with the text test on every code unit', () => {
    for (let c = 0; c <= 0xffff; c++)
      if (isUnsafeCode(c) !== hasUnsafe(String.fromCharCode(c))) expect.fail(`U+${c.toString(16)} disagrees`);
  });

  it('a tab in an iptables-save rule is no control character, whatever else the text holds', () => {
    const rules = '*filter\n:X - [0:0]\n-A X -m comment --comment "a\tb" -j ACCEPT\nCOMMIT\n';
    for (const text of [rules, `${rules}# \u0007\n`]) {
      const r = parseIptablesSave(text);
      expect(r.diagnostics.filter((d) => d.line === 3)).toEqual([]);
      expect(r.value.tables.filter!.chains.X!.rules[0]!.comment).toBe('a\tb');
    }
  });

  it('a field over the limit is cut with a diagnostic', () => {
    const long = 'x'.repeat(FIELD_LIMIT + 10);
    const t = `NAME   READY   STATUS    RESTARTS   AGE\n${long}   1/1     Running   0          1m\n`;
    const r = parseKubectlTable(t, { resource: 'pods' });
    expect(r.value.pods[0]!.name).toHaveLength(FIELD_LIMIT);
    expect(r.diagnostics.map((d) => d.code)).toContain('field-too-long');
  });
});

describe('kubectl errors instead of a table', () => {
  it('are reported as the error kubectl printed, not as a missing header', () => {
    const r = parseKubectlTable('Error from server (NotFound): pods "kuard" not found\n', {
      resource: 'pods',
    });
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'kubectl-error',
        severity: 'error',
        line: 1,
        message: 'Error from server (NotFound): pods "kuard" not found',
      }),
    ]);
  });
});
