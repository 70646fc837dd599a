import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotService, type SnapshotView } from '../../src/api/snapshotService.js';

const fixture = (p: string) => readFileSync(new URL(`../fixtures/${p}`, import.meta.url), 'utf8');

describe('SnapshotService', () => {
  let service: SnapshotService;
  afterEach(() => service.dispose());

  it("analyses the seed's captures together: 10 endpoints, 10 % each, and the stale SEP from another run", async () => {
    const changes: SnapshotView[] = [];
    service = new SnapshotService(
      (v) => changes.push(v),
      () => new Date('2019-01-19T08:12:00Z'),
      1,
    );
    const add = (path: string, command: string, node?: string) =>
      service.add({ text: fixture(path), command, ...(node ? { node } : {}), origin: 'paste' });

    expect(
      add('kubectl-object/seed-none-endpoints-yaml.txt', 'kubectl get endpoints kuard -o yaml')?.kind,
    ).toBe('kubectl-object');
    add('kubectl-object/seed-clusterip-svc-yaml.txt', 'kubectl get svc kuard -o yaml');
    add('kubectl-table/seed-networking-get-pods-wide.txt', 'kubectl get pods -o wide');
    for (const part of ['kube-services-rule', 'kube-svc-chain', 'kube-sep-chain']) {
      const info = add(`iptables-save/seed-clusterip-${part}.txt`, 'iptables-save', 'ip-10-0-23-3');
      expect(info).toMatchObject({ kind: 'iptables-save', node: 'ip-10-0-23-3', errors: 0, origin: 'paste' });
    }

    const view = service.view();
    expect(view.captures).toHaveLength(6);
    expect(view.captures[0]?.takenAt).toBe('2019-01-19T08:12:00.000Z');
    const kuard = view.analysis.services.find((s) => s.name === 'kuard');
    expect(kuard?.endpoints).toHaveLength(10);
    const backends = kuard?.nodes['ip-10-0-23-3']?.backends ?? [];
    expect(backends.map((b) => b.probability?.toFixed(2) ?? null)).toEqual([
      '0.10',
      '0.11',
      '0.13',
      '0.14',
      '0.17',
      '0.20',
      '0.25',
      '0.33',
      '0.50',
      null,
    ]);
    for (const b of backends) expect(b.effectiveProbability).toBeCloseTo(0.1, 5);
    const stale = view.analysis.findings.find((f) => f.code === 'sep-stale');
    expect(stale?.evidence.map((e) => e.text).join('\n')).toContain('192.168.236.133');
    // The Pods view's rows: every pod, tied to kuard by its endpoints; the nodes are those the pods name, and the one
    // whose iptables-save was captured (the seed's ip-10-0-23-3, on which no kuard pod runs).
    expect(view.inventory.pods).toHaveLength(10);
    expect(
      view.inventory.pods.every(
        (p) => p.services.map((r) => `${r.name}:${r.endpoint}`).join() === 'kuard:ready',
      ),
    ).toBe(true);
    expect(view.inventory.nodes.map((n) => [n.name, n.pods, n.iptables])).toEqual([
      ['ip-10-0-23-3', 0, true],
      ['ip-10-0-8-176.ap-northeast-2.compute.internal', 5, false],
      ['ip-10-0-8-254.ap-northeast-2.compute.internal', 5, false],
    ]);

    await new Promise((r) => setTimeout(r, 20));
    expect(changes.at(-1)).toEqual(view);
  });

  it('adds nothing for text no parser recognises, and removes and clears captures', () => {
    service = new SnapshotService(() => {});
    expect(service.add({ text: 'hello world\n', origin: 'paste' })).toBeNull();
    expect(
      service.add({ text: 'kuard-dbdd7955d-4kdbr\n', command: 'hostname', origin: 'terminal' }),
    ).toBeNull();
    const info = service.add({
      text: fixture('kubectl-table/seed-networking-get-pods.txt'),
      command: 'kubectl get pods',
      origin: 'terminal',
    });
    expect(info?.kind).toBe('kubectl-table');
    expect(service.view().captures).toHaveLength(1);
    expect(service.remove('nope')).toBe(false);
    expect(service.remove(info!.id)).toBe(true);
    expect(service.view().captures).toHaveLength(0);
    service.add({ text: fixture('kubectl-table/seed-networking-get-pods.txt'), origin: 'paste' });
    service.clear();
    expect(service.view().captures).toEqual([]);
  });
});
