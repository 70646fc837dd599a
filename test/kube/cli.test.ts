/** `labdeck kube` in-process against the kube-api **double** over loopback TLS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObjects } from '../../src/model/kube.js';
import { runCli } from '../support/cli.js';
import { SERVER_NAME, plan, startKubeFixture, type KubeFixture } from './kube-harness.js';

const TOKEN = 'tok-cli-5a4b3c2d1e0f9a8b';
let fx: KubeFixture;
let file: string;

beforeAll(async () => {
  fx = await startKubeFixture(
    'labdeck-kubecli-',
    (url, pki) => [
      {
        name: 'lab',
        server: url,
        ca: pki.caPem,
        tlsServerName: SERVER_NAME,
        token: TOKEN,
        user: 'jane',
        namespace: 'default',
      },
      { name: 'noname', server: url, ca: pki.caPem, token: TOKEN, user: 'jim' },
    ],
    { tokens: { [TOKEN]: 'jane' } },
  );
  file = fx.kubeconfig;
});

afterAll(() => fx?.dispose());

describe('labdeck kube', () => {
  it('lists contexts like kubectl config get-contexts, without credentials', async () => {
    const r = await runCli(['kube', 'contexts', '--kubeconfig', file]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^CURRENT\s+NAME\s+CLUSTER\s+AUTHINFO\s+NAMESPACE\s+SERVER$/);
    expect(r.out).toMatch(/^\*\s+lab\s+lab-cluster\s+jane\s+default\s+https:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.out + r.err).not.toContain(TOKEN);
  });

  it('gets pods as the parse result JSON of kubectl -o json', async () => {
    const r = await runCli(['kube', 'get', 'pods', '--kubeconfig', file, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out) as { kind: string; value: KubeObjects; diagnostics: unknown[] };
    expect(parsed.kind).toBe('kubectl-object');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.value.pods.map((p) => p.ip).sort()).toEqual(plan.pods.map((p) => p.ip).sort());
    expect(parsed.value.pods[0]).toMatchObject({ namespace: 'default', status: 'Running', ready: '1/1' });
  });

  it('prints a table of services in every namespace', async () => {
    const r = await runCli(['kube', 'get', 'svc', '-A', '--kubeconfig', file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^default\s+kuard\s+LoadBalancer\s+10\.97\.169\.67\s+80:31986\/TCP\s+app=kuard$/m);
  });

  it('exits 2 for what the user typed, 1 for what the cluster said, with one line on stderr', async () => {
    const bad = await runCli(['kube', 'get', 'pods', '--kubeconfig', file, '--context', 'prod']);
    expect(bad).toMatchObject({ code: 2, out: '' });
    expect(bad.err).toBe('labdeck kube: no context "prod" in the kubeconfig (contexts: lab, noname)\n');
    expect((await runCli(['kube', 'get', 'secrets', '--kubeconfig', file])).code).toBe(2);
    const tls = await runCli(['kube', 'get', 'nodes', '--kubeconfig', file, '--context', 'noname']);
    expect(tls.code).toBe(1);
    expect(tls.err).toMatch(
      /^labdeck kube: list nodes: refused to talk to https:\/\/127\.0\.0\.1:\d+: its certificate is not valid for the name "127\.0\.0\.1"/,
    );
    expect(tls.err.trim().split('\n')).toHaveLength(1);
    expect(tls.err).not.toContain(TOKEN);
  });
});
