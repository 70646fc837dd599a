import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkInventory, parseInventory } from '../../src/labs/inventory.js';
import { loadLabDir } from '../../src/labs/loadLab.js';
import { describeUp } from '../../src/cli/commands/sandbox.js';
import { labInventoryText } from '../../src/sandbox/labInventory.js';
import { Sandbox } from '../../src/sandbox/sandbox.js';
import { planSandbox } from '../../src/sandbox/topology.js';

describe('the inventory `sandbox up` writes', () => {
  const plan = planSandbox({ name: 'ldinv', workers: 2 });
  const file = '/run/labdeck/sandbox/ldinv/inventory.yaml';
  const load = parseInventory(labInventoryText(plan), file);

  it('is a valid inventory whose paths point into the instance directory', () => {
    expect(load.problems).toEqual([]);
    if (!('inventory' in load)) throw new Error('no inventory');
    const inv = load.inventory;
    expect(inv.environment).toBe('sandbox-ldinv');
    const spec = (role: string) => inv.roles.get(role)!.map((r) => r.spec);
    const ssh = (host: string) => ({ kind: 'ssh', config: '/run/labdeck/sandbox/ldinv/ssh_config', host });
    expect(spec('workstation')).toEqual([ssh('master')]);
    expect(spec('master')).toEqual([ssh('master')]);
    // Workers first: blocks with on=first run on worker-1.
    expect(spec('node')).toEqual([ssh('worker-1'), ssh('worker-2'), ssh('master')]);
    expect(spec('pod')).toEqual([{ kind: 'kubectl-exec', pod: 'deploy/kuard', namespace: 'default' }]);
  });

  it('binds every role of the shipped labs', () => {
    if (!('inventory' in load)) throw new Error('no inventory');
    for (const lab of ['tgik-002-networking-and-services', 'pod-network-anatomy']) {
      const l = loadLabDir(join(import.meta.dirname, '../../labs', lab));
      if (!('lab' in l) || !l.lab) throw new Error(`${lab} does not load`);
      expect(checkInventory(l.lab, load.inventory).errors).toEqual([]);
    }
  });

  it('is printed with the other paths and in the next steps (up and status)', () => {
    const info = new Sandbox({ baseDir: '/nonexistent/labdeck', selfCommand: [] }, { name: 'ldinv' }).info();
    expect(info.inventory).toBe('/nonexistent/labdeck/ldinv/inventory.yaml');
    const text = describeUp(info);
    expect(text).toContain(`  inventory   ${info.inventory}   (binds the lab roles to these machines)`);
    expect(text).toContain(
      `  labdeck lab run labs/tgik-002-networking-and-services --inventory ${info.inventory} --skip-setup`,
    );
    // the live-cluster path through the bastion (docs/kube.md), with the files up hands out
    expect(text).toContain(
      `  labdeck kube get pods --kubeconfig ${info.kubeconfig} --via bastion -F ${info.sshConfig}`,
    );
  });
});
