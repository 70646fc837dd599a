import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabDir, parseInfoString, parseLab, maxLabBytes } from '../../src/labs/loadLab.js';
import { TGIK_002_STEP_IDS } from '../support/tgik-002.js';

const labsRoot = join(import.meta.dirname, '../../labs');

describe('the shipped labs', () => {
  it('TGIK 002 validates with no errors or warnings, every step has checks', () => {
    const r = loadLabDir(join(labsRoot, 'tgik-002-networking-and-services'));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    const lab = r.lab!;
    expect(lab.id).toBe('tgik-002-networking-and-services');
    expect(lab.steps.map((s) => s.id)).toEqual(TGIK_002_STEP_IDS);
    for (const s of lab.steps) expect(s.checks.length, s.title).toBeGreaterThan(0);
    expect(lab.roles.map((r) => [r.id, r.many])).toEqual([
      ['workstation', false],
      ['master', false],
      ['node', true],
      ['pod', false],
    ]);
    expect(lab.credits.map((c) => c.name).join(' ')).toMatch(/Joe Beda/);
    const commands = lab.steps.flatMap((s) => s.blocks.map((b) => b.command)).join('\n');
    expect(commands).toContain(
      'kubectl create deployment kuard --image=gcr.io/kuar-demo/kuard-amd64:1 --replicas=10',
    );
    expect(commands).not.toMatch(/kubectl run .*--replicas/);
    expect(commands).not.toMatch(/--type=None/);
    expect(commands).toContain('--cluster-ip=None');
    expect(lab.estimatedMinutes).toBe(60);
  });

  it('the pod lab validates and uses needs across steps, hints and the pod role', () => {
    const r = loadLabDir(join(labsRoot, 'pod-network-anatomy'));
    expect(r.errors).toEqual([]);
    const checks = r.lab!.steps.flatMap((s) => s.checks);
    expect(checks.some((c) => c.needs.length > 0)).toBe(true);
    expect(checks.filter((c) => c.hint).length).toBeGreaterThan(3);
    expect(r.lab!.steps.some((s) => s.blocks.some((b) => b.role === 'pod'))).toBe(true);
  });

  it('gives a readonly model', () => {
    const lab = loadLabDir(join(labsRoot, 'pod-network-anatomy')).lab!;
    expect(Object.isFrozen(lab)).toBe(true);
    expect(Object.isFrozen(lab.steps[0]!.blocks)).toBe(true);
    expect(() => {
      (lab.steps as unknown as unknown[]).push({});
    }).toThrow();
  });
});

describe('block attributes in the info string', () => {
  it('reads language, key=value pairs, quoted values and the checks flag', () => {
    const a = parseInfoString('sh {role=master parse=kubectl-table panel=pods id=get-pods kind=setup}');
    expect(a.lang).toBe('sh');
    expect(Object.fromEntries(a.attrs)).toEqual({
      role: 'master',
      parse: 'kubectl-table',
      panel: 'pods',
      id: 'get-pods',
      kind: 'setup',
    });
    expect(parseInfoString('sh {role=node timeout="2 m"}').attrs.get('timeout')).toBe('2 m');
    expect([...parseInfoString('yaml {checks}').flags]).toEqual(['checks']);
    expect(parseInfoString('shell').attrs.size).toBe(0);
    expect(parseInfoString('sh {role=a b="x}').attrError).toMatch(/cannot read the attributes/);
  });
});

describe('limits on untrusted input', () => {
  it('refuses an oversized lab without parsing it', () => {
    const r = parseLab('x'.repeat(maxLabBytes + 1));
    expect(r.errors[0]?.message).toMatch(/the limit is/);
  });
  it('a YAML alias bomb in checks is an error, not a hang', () => {
    const bomb = [
      '---',
      'id: b',
      'title: B',
      'summary: S',
      'estimatedTime: 1m',
      'roles: {w: {description: d}}',
      '---',
      '## S',
      '```yaml {checks}',
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
      '```',
    ].join('\n');
    expect(() => parseLab(bomb)).not.toThrow();
    expect(parseLab(bomb).errors.length).toBeGreaterThan(0);
  });
});

describe('variables that name the analysed snapshot', () => {
  const lab = (command: string) =>
    parseLab(
      [
        '---',
        'id: t',
        'title: T',
        'summary: S',
        'estimatedTime: 1m',
        'roles: {w: {description: local shell}}',
        '---',
        '## One',
        '',
        '```sh {role=w}',
        command,
        '```',
      ].join('\n'),
    );

  it('accepts every collection the analysed snapshot provides, serviceViews too', () => {
    for (const name of ['pods', 'nodes', 'services', 'endpoints', 'serviceViews']) {
      const r = lab(`echo {{${name}[0].name}}`);
      expect(r.errors, name).toEqual([]);
    }
  });

  it('refuses a name it does not provide, and lists the ones it does', () => {
    const r = lab('echo {{chains[0].name}}');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/nothing in this lab provides "chains"/);
    expect(r.errors[0]!.advice).toMatch(
      /use a snapshot collection \(pods, nodes, services, endpoints, serviceViews, findings\)/,
    );
  });
});
