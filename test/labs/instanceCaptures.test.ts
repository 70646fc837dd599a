import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../../src/cli/commands/lab.js';
import { parseLab } from '../../src/labs/loadLab.js';
import { formatProblem } from '../../src/labs/model.js';
import { LabRunner, type BoundTarget } from '../../src/labs/runner.js';
import { resolvePath, substitute } from '../../src/labs/variables.js';
import { LocalTarget } from '../../src/targets/localTarget.js';

/** How captures of a `many` role are stored and reached (docs/labs.md, "The state and variables"). */

const tmp = mkdtempSync(join(tmpdir(), `labdeck-instances-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(body: string): ReturnType<typeof parseLab> {
  return parseLab(
    [
      '---',
      'id: t',
      'title: T',
      'summary: S',
      'estimatedTime: 1m',
      'roles: {node: {description: nodes, many: true}, w: {description: workstation}}',
      '---',
      body,
    ].join('\n'),
  );
}

/** Two "nodes": local bash in two directories, each told its name (a double of two machines). */
function nodes(): (role: string) => BoundTarget[] {
  return (role) =>
    role === 'node'
      ? ['worker1', 'worker2'].map((name) => ({
          instance: name,
          target: new LocalTarget({ cwd: mkdtempSync(join(tmp, `${name}-`)), env: { NODE_NAME: name } }),
        }))
      : [{ instance: role, target: new LocalTarget({ cwd: tmp }) }];
}

const body = [
  '## CNI',
  '',
  '```sh {role=node on=first parse=json as=cniConf}',
  'echo \'{"name": "k8s-pod-network", "plugins": [{"type": "calico"}, {"type": "portmap"}]}\'',
  '```',
  '',
  '```sh {role=node parse=json as=fromNodes}',
  'echo "{\\"node\\": \\"$NODE_NAME\\"}"',
  '```',
  '',
  '```sh {role=node on=worker2 parse=json as=second}',
  'echo "{\\"node\\": \\"$NODE_NAME\\"}"',
  '```',
  '',
  '```yaml {checks}',
  '- id: first-plugin',
  '  run: {role: w, command: "test {{cniConf.plugins[0].type}} = calico"}',
  '  assert:',
  "    - that: 'cniConf.plugins[1].type == portmap'",
  '- id: every-node',
  '  assert: [{count: fromNodes == 2}, {distinct: node of fromNodes == 2}]',
  '- id: all-names',
  '  run:',
  '    role: w',
  '    command: \'test "$(echo {{fromNodes[*].node}})" = "worker1 worker2"\'',
  '- id: named',
  '  assert: [{that: second.node == worker2}]',
  '```',
].join('\n');

describe('captures of a role with many instances', () => {
  it('a block on one instance (on=first, on=NAME) stores its value directly; on=all stores one per instance', async () => {
    const r = load(body);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    const runner = new LabRunner({ lab: r.lab!, targets: nodes(), parse: parseOutput, trusted: true });
    const step = await runner.runStep('cni');
    const { state } = runner.state();
    runner.dispose();
    expect(step.checks.map((c) => [c.id, c.status, c.message ?? ''])).toEqual([
      ['first-plugin', 'done', ''],
      ['every-node', 'done', ''],
      ['all-names', 'done', ''],
      ['named', 'done', ''],
    ]);
    expect(state['second']).toEqual({ node: 'worker2' });
    expect(state['fromNodes']).toEqual({ worker1: { node: 'worker1' }, worker2: { node: 'worker2' } });
    expect(substitute('{{cniConf.plugins[0].type}}', state, { shell: true })).toBe('calico');
  });

  it('[*] on a map projects over its values; an index on a map says to use [*]', () => {
    const state = { fromNodes: { worker1: { ip: '10.0.0.1' }, worker2: { ip: '10.0.0.2' } } };
    expect(resolvePath(state, ['fromNodes', '*', 'ip'])).toEqual({
      ok: true,
      value: ['10.0.0.1', '10.0.0.2'],
    });
    expect(resolvePath(state, ['fromNodes', 0, 'ip'])).toEqual({
      ok: false,
      message: 'fromNodes is not a list (known: worker1, worker2); use fromNodes[*] for all its values',
    });
  });

  it('validation warns where a path into a per-instance capture cannot resolve, with what to write instead', () => {
    const r = load(
      [
        '## CNI',
        '',
        '```sh {role=node parse=json as=cniConf}',
        'cat /etc/cni/net.d/10-calico.conflist',
        '```',
        '',
        '```sh {role=w}',
        'ls /opt/cni/bin/{{cniConf.plugins[0].type}}',
        '```',
        '',
        '```yaml {checks}',
        '- id: first-plugin',
        '  assert:',
        "    - that: 'cniConf[0].name == k8s-pod-network'",
        '    - every: cniConf have plugins',
        '  message: "{{cniConf[*].name}} is fine"',
        '```',
      ].join('\n'),
    );
    expect(r.errors).toEqual([]);
    expect(r.warnings.map(formatProblem)).toEqual([
      'lab.md:19: step "CNI": check "first-plugin": path cniConf[0].name cannot resolve: "cniConf" is captured on every instance of "node" (block 1 (cni-1) of step "CNI"), so it is a map of instance name → value, not a list (capture one value with on=first (or on=NAME), write cniConf[*].name for every instance, or use a collection assertion (every: cniConf have …))',
      'lab.md:14: step "CNI": block 2: variable {{cniConf.plugins[0].type}} resolves only if the inventory names an instance "plugins": "cniConf" is captured on every instance of "node" (block 1 (cni-1) of step "CNI"), so its keys are instance names (capture one value with on=first (or on=NAME), write cniConf[*].plugins[0].type for every instance, or use a collection assertion (every: cniConf have …))',
    ]);
  });
});
