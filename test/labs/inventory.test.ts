import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInventory, parseInventory } from '../../src/labs/inventory.js';
import { formatProblem, loadLabDir } from '../../src/labs/loadLab.js';
import { createTarget } from '../../src/targets/createTarget.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-inv-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const tgik = loadLabDir(join(import.meta.dirname, '../../labs/tgik-002-networking-and-services')).lab!;

/** The example inventory of docs/labs.md, taken from the document itself so the two cannot drift apart. */
function docExample(): string {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/labs.md'), 'utf8');
  const m = /<!-- inventory-example -->\s*```yaml\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/labs.md has no inventory example');
  return m[1]!;
}

describe('inventory', () => {
  it('the documented example binds every TGIK role; paths are relative to the inventory file', () => {
    const r = parseInventory(docExample(), '/home/me/labs/sandbox.yaml');
    expect(r.problems).toEqual([]);
    if (!('inventory' in r)) throw new Error('no inventory');
    expect(checkInventory(tgik, r.inventory)).toEqual({ errors: [], warnings: [] });
    const node = r.inventory.roles.get('node')!;
    expect(node.map((n) => n.instance)).toEqual(['worker1', 'worker2']);
    expect(node[0]!.spec).toEqual({
      kind: 'ssh',
      config: '/home/me/labs/sandbox/ssh_config',
      host: 'worker1',
    });
    expect(r.inventory.roles.get('pod')![0]!.spec).toMatchObject({
      kind: 'kubectl-exec',
      pod: 'deploy/kuard',
      namespace: 'default',
    });
  });

  it('reports schema problems with their place and advice', () => {
    const r = parseInventory(
      'environment: my env\nroles:\n  workstation: locl\n  master: {ssh: {host: m}}\n  pod: {local: true, colour: red}\n',
      '/x/inv.yaml',
    );
    const msgs = r.problems.map(formatProblem);
    expect(msgs[0]).toBe('inventory: environment: use letters, digits, ".", "_" and "-"');
    expect(
      msgs.some((m) => m.startsWith('inventory: roles.workstation:') && m.includes('a binding is "local"')),
    ).toBe(true);
    expect(msgs.some((m) => m.startsWith('inventory: roles.master'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('inventory: roles.pod'))).toBe(true);
  });

  it('checks the inventory against the lab: unbound roles and too many machines are errors, unknown roles a warning', () => {
    const r = parseInventory(
      'environment: e\nroles:\n  workstation: [local, local]\n  nodes: local\n  master: local\n',
      '/x/inv.yaml',
    );
    if (!('inventory' in r)) throw new Error('no inventory');
    const fit = checkInventory(tgik, r.inventory);
    expect(fit.warnings.map(formatProblem)).toEqual([
      'inventory: roles.nodes: the lab has no role "nodes" (did you mean "node"? roles: workstation, master, node, pod)',
    ]);
    expect(fit.errors.map(formatProblem)).toEqual([
      'inventory: roles.workstation: binds 2 machines, but the lab\'s role "workstation" has one (bind a single machine)',
      'inventory: roles: role "node" (A shell on each worker node (SSH or kubectl debug node/NAME)) is not bound (add "node: local" or another binding to /x/inv.yaml)',
      'inventory: roles: role "pod" (A shell inside one kuard pod (kubectl exec into deploy/kuard)) is not bound (add "pod: local" or another binding to /x/inv.yaml)',
    ]);
  });

  it('kubectl bindings need a workstation to run kubectl on, and say so at bind time', () => {
    const debug = {
      kind: 'kubectl-debug',
      node: 'worker1',
      image: 'busybox:1.36',
      namespace: 'default',
    } as const;
    expect(() => createTarget(debug, { role: 'node', instance: 'worker1' })).toThrow(
      'role "node": kubectl-debug runs kubectl on the workstation, but no workstation role is bound',
    );
    // ssh and kubectl-exec bind (test/targets/sshTarget.itest.ts); their setup problems are named at bind time.
    expect(() =>
      createTarget(
        { kind: 'ssh', config: '/nonexistent/ssh_config', host: 'node' },
        { role: 'node', instance: 'n' },
      ),
    ).toThrow(/^role "node": ssh host "node" in \/nonexistent\/ssh_config: .*nonexistent/);
    expect(() =>
      createTarget(
        { kind: 'kubectl-exec', pod: 'kuard', namespace: 'default' },
        { role: 'pod', instance: 'p' },
      ),
    ).toThrow('role "pod": kubectl-exec runs kubectl on the workstation, but no workstation role is bound');
    expect(createTarget({ kind: 'local' }, { role: 'w', instance: 'w' }).description).toBe('local bash');
  });
});
