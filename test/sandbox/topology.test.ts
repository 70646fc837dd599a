import { describe, expect, it } from 'vitest';
import { clusterObjects, kubeProxyServices, kuardEnvResponse } from '../../src/sandbox/cluster-state.js';
import { humanDuration } from '../../src/sandbox/kube-api-double.js';
import { checkInstanceName, planNamespaces, planSandbox, rootAddresses } from '../../src/sandbox/topology.js';

describe('sandbox plan', () => {
  it('keeps every instance in its own /30 of 10.255.0.0/16', () => {
    expect(rootAddresses(0)).toEqual({ rootIp: '10.255.0.1', bastionIp: '10.255.0.2' });
    expect(rootAddresses(16383)).toEqual({ rootIp: '10.255.255.253', bastionIp: '10.255.255.254' });
    expect(() => rootAddresses(16384)).toThrow(RangeError);
  });

  it('refuses names that would not fit an interface name', () => {
    expect(checkInstanceName('ldsb')).toBeUndefined();
    expect(checkInstanceName('abcdefghijk')).toMatch(/longer than 10/);
    expect(checkInstanceName('Bad-Name')).toMatch(/lower-case/);
  });

  it('derives pods, CIDRs and Calico interface names from the name alone', () => {
    const a = planSandbox({ name: 'ldt1', pods: 10 });
    const b = planSandbox({ name: 'ldt1', pods: 10 });
    expect(a).toEqual(b);
    expect(a.pods).toHaveLength(10);
    for (const p of a.pods) {
      const node = a.nodes.find((n) => n.name === p.node)!;
      expect(p.ip.startsWith(node.podCIDR.replace(/0\/24$/, ''))).toBe(true);
      expect(p.hostIf).toMatch(/^cali[0-9a-f]{11}$/);
    }
    expect(new Set(planNamespaces(a)).size).toBe(planNamespaces(a).length);
    expect(a.rootIf.length).toBeLessThanOrEqual(15);
  });

  it('gives kubectl and kube-proxy the same endpoints unless a fault says otherwise', () => {
    const plan = planSandbox({ name: 'ldt1', pods: 4 });
    const objs = clusterObjects(plan, {}, '2026-01-01T00:00:00Z', { kernelVersion: 'k', osImage: 'o' });
    const ep = objs.endpoints.find((e) => e.metadata.name === 'kuard') as unknown as {
      subsets: { addresses: { ip: string }[] }[];
    };
    const apiIps = ep.subsets[0]!.addresses.map((a) => a.ip).sort();
    const proxyIps = kubeProxyServices(plan, {}, 'worker-1')
      .find((s) => s.name === 'kuard')!
      .endpoints.map((e) => e.ip)
      .sort();
    expect(proxyIps).toEqual(apiIps);
    const stale = kubeProxyServices(plan, { 'stale-sep': true }, 'worker-1').find((s) => s.name === 'kuard')!;
    expect(stale.endpoints.map((e) => e.ip)).toContain(plan.phantomPodIp);
  });

  it('answers /env/api in the kuard shape with the pod name as HOSTNAME', () => {
    const plan = planSandbox({ name: 'ldt1', pods: 2 });
    const r = kuardEnvResponse(plan, plan.pods[0]!);
    expect(r.commandLine).toEqual(['/kuard']);
    expect(r.env['HOSTNAME']).toBe(plan.pods[0]!.name);
    expect(r.env['KUBERNETES_SERVICE_HOST']).toBe('10.96.0.1');
  });

  it('prints ages like kubectl', () => {
    expect(humanDuration(5_000)).toBe('5s');
    expect(humanDuration(150_000)).toBe('2m30s');
    expect(humanDuration(25 * 60_000)).toBe('25m');
    expect(humanDuration(5 * 3_600_000)).toBe('5h');
    expect(humanDuration(3 * 86_400_000)).toBe('3d');
  });
});
