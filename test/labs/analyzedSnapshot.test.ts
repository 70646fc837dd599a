import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnalyzedSnapshot } from '../../src/labs/analyzedSnapshot.js';
import { evaluateAssertion, parseAssertion, type Assertion } from '../../src/labs/assertions.js';
import { parseOutput } from '../../src/labs/parseOutput.js';

// Real captures from the seed (the parse room's golden fixtures; each has a .meta.json naming its seed lines).
const fixture = (p: string): string => readFileSync(join(import.meta.dirname, '../fixtures', p), 'utf8');

function a(type: string, body: unknown): Assertion {
  const r = parseAssertion(type, body);
  if (!r.ok) throw new Error(r.error);
  return r.assertion;
}

describe('the analysed snapshot behind lab assertions', () => {
  const snap = new AnalyzedSnapshot(() => Date.UTC(2019, 0, 18));
  const add = (kind: string, file: string, command: string, role: string, as?: string): void =>
    snap.ingest({
      step: 'kube-proxy',
      block: file.split('/')[1]!.replace('.txt', ''),
      role,
      instance: role,
      perInstance: false,
      command,
      ...(as ? { as } : {}),
      parsed: parseOutput(kind, fixture(file), command),
    });
  add(
    'kubectl-object',
    'kubectl-object/seed-none-endpoints-yaml.txt',
    'kubectl get endpoints kuard -o yaml',
    'workstation',
  );
  add(
    'kubectl-object',
    'kubectl-object/seed-clusterip-svc-yaml.txt',
    'kubectl get svc kuard -o yaml',
    'workstation',
  );
  add(
    'iptables-save',
    'iptables-save/seed-clusterip-iptables-save-less.txt',
    'iptables-save | less',
    'master',
  );
  add('iptables-save', 'iptables-save/seed-clusterip-kube-svc-chain.txt', 'iptables-save -t nat', 'master');
  add(
    'iptables-save',
    'iptables-save/seed-clusterip-kube-sep-chain.txt',
    'iptables-save -t nat',
    'master',
    'sepChain',
  );

  it('exposes the parsed objects as collections next to the named captures', () => {
    const view = snap.view();
    expect(evaluateAssertion(a('that', 'services.kuard.clusterIP == 10.97.169.67'), view).ok).toBe(true);
    expect(evaluateAssertion(a('count', 'endpoints == 1'), view).ok).toBe(true);
    expect(Object.keys(view.state)).toContain('sepChain');
  });

  it("no-findings fails on the seed's mixed captures and names the evidence: a SEP to an IP that is no endpoint", () => {
    const r = evaluateAssertion(a('no-findings', ['sep-stale', 'sep-missing']), snap.view());
    expect(r.ok).toBe(false);
    expect(
      r.evidence.some(
        (e) =>
          e.startsWith('sep-stale: On master, KUBE-SEP-AOUKRORADL3ZFT3D') && e.includes('192.168.236.133'),
      ),
    ).toBe(true);
  });
});
