/**
 * KubeService: a context's watch feeds the workbench snapshot (the same SnapshotService terminals feed), state goes
 * out as events, failures cross as data. Against the kube-api **double** over loopback TLS.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methods } from '../../src/api/contract.js';
import { KubeService, type KubeStatusView } from '../../src/api/kubeService.js';
import { SnapshotService, type SnapshotView } from '../../src/api/snapshotService.js';
import { batchPrompts, SshConnectionFactory } from '../../src/ssh/index.js';
import type { KubeApiDouble } from '../../src/sandbox/kube-api-double.js';
import { SERVER_NAME, objects, plan, startKubeFixture, type KubeFixture } from '../kube/kube-harness.js';

let fx: KubeFixture;
let file: string;
let double: KubeApiDouble;
let tmp: string;

beforeAll(async () => {
  fx = await startKubeFixture('labdeck-kubesvc-', (url, pki) => [
    { name: 'lab', server: url, ca: pki.caPem, tlsServerName: SERVER_NAME },
    { name: 'broken', server: url, ca: pki.otherCaPem, tlsServerName: SERVER_NAME },
  ]);
  ({ kubeconfig: file, double, tmp } = fx);
});

afterAll(() => fx?.dispose());

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !ok(); t += 25) await new Promise((r) => setTimeout(r, 25));
  expect(ok(), what).toBe(true);
}

describe('KubeService', () => {
  it('feeds the live cluster into the snapshot the panels analyse, and takes it out on disconnect', async () => {
    let view: SnapshotView | undefined;
    const snapshot = new SnapshotService((v) => (view = v), undefined, 10);
    const states: KubeStatusView[] = [];
    const ssh = new SshConnectionFactory({ prompts: batchPrompts });
    const kube = new KubeService({ snapshot, ssh, onStatus: (s) => states.push(s), coalesceMs: 20 });
    try {
      expect(kube.contexts(file).contexts.map((c) => c.name)).toEqual(['lab', 'broken']);
      // A terminal capture is there before the cluster connects; it stays.
      snapshot.add({ text: 'NAME   READY   STATUS\n', command: 'kubectl get pods', origin: 'terminal' });
      const status = await kube.connect({ kubeconfig: file, context: 'lab' });
      expect(status).toMatchObject({ state: 'connected', context: 'lab', via: null, error: null });
      expect(status.counts?.pods).toBe(objects().pods.length);
      await until('analysed', () => (view?.analysis.services.length ?? 0) > 0);
      const kuard = view!.analysis.services.find((s) => s.name === 'kuard')!;
      expect(kuard.pods.map((p) => p.ip).sort()).toEqual(plan.pods.map((p) => p.ip).sort());
      expect(kuard.endpoints.length).toBe(plan.pods.length);
      const live = view!.captures.filter((c) => c.origin === 'kube');
      expect(live.map((c) => c.command)).toEqual([
        'watch nodes (context lab)',
        'watch pods (context lab)',
        'watch services (context lab)',
        'watch endpointslices (context lab)',
        'watch endpoints (context lab)',
      ]);
      // A change on the cluster updates the same captures in place.
      const ids = live.map((c) => c.id);
      const o = objects();
      double.update({ ...o, pods: o.pods.slice(1) });
      await until(
        'pod gone',
        () =>
          (view?.analysis.services.find((s) => s.name === 'kuard')?.pods.length ?? 0) ===
          plan.pods.length - 1,
      );
      expect(view!.captures.filter((c) => c.origin === 'kube').map((c) => c.id)).toEqual(ids);
      double.update(o);

      await kube.disconnect();
      await until('removed', () => view!.captures.every((c) => c.origin !== 'kube'));
      expect(view!.captures.map((c) => c.origin)).toEqual(['terminal']);
      expect(kube.status().state).toBe('disconnected');
      expect(states.map((s) => s.state)).toContain('connecting');
      expect(states[states.length - 1]!.state).toBe('disconnected');
    } finally {
      kube.dispose();
      snapshot.dispose();
    }
  });

  it('fails as data: a coded error naming the server name, and state "failed"', async () => {
    const snapshot = new SnapshotService(() => undefined);
    const states: KubeStatusView[] = [];
    const kube = new KubeService({
      snapshot,
      ssh: new SshConnectionFactory({ prompts: batchPrompts }),
      onStatus: (s) => states.push(s),
    });
    try {
      const err = await kube.connect({ kubeconfig: file, context: 'broken' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'kube-tls-failed' });
      expect((err as Error).message).toContain(SERVER_NAME);
      expect(kube.status()).toMatchObject({
        state: 'failed',
        context: 'broken',
        error: { code: 'tls-failed' },
      });
      const none = await kube.connect({ kubeconfig: file, context: 'nope' }).catch((e: unknown) => e);
      expect(none).toMatchObject({ code: 'kube-no-such-context', where: 'nope' });
      const nofile = await kube.connect({ kubeconfig: join(tmp, 'absent') }).catch((e: unknown) => e);
      expect(nofile).toMatchObject({ code: 'kube-kubeconfig-not-found' });
    } finally {
      kube.dispose();
      snapshot.dispose();
    }
  });

  it('validates kube requests with the contract before anything runs', () => {
    const connect = methods['kube.connect'].request;
    expect(
      connect.safeParse({ context: 'kubernetes-admin@ldsb', via: 'bastion', namespace: 'kube-system' })
        .success,
    ).toBe(true);
    expect(connect.safeParse({ namespace: 'Kube_System' }).success).toBe(false);
    expect(connect.safeParse({ context: 'a\u001b[31mb' }).success).toBe(false);
    expect(connect.safeParse({ context: 'x', token: 'smuggled' }).success).toBe(false);
    expect(connect.safeParse({ via: '' }).success).toBe(false);
    expect(methods['kube.contexts'].request.safeParse({ kubeconfig: 'x'.repeat(5000) }).success).toBe(false);
    expect(methods['kube.disconnect'].request.safeParse({ now: true }).success).toBe(false);
  });
});
