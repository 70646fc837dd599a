import { describe, expect, it } from 'vitest';
import {
  evaluateAssertion,
  parseAssertion,
  type Assertion,
  type AssertionContext,
} from '../../src/labs/assertions.js';

function a(type: string, body: unknown): Assertion {
  const r = parseAssertion(type, body);
  if (!r.ok) throw new Error(`${r.error} (${r.advice})`);
  return r.assertion;
}

// Pods and endpoints shaped like the seed's 2019 cluster (names and IPs from its `kubectl get pods -o wide`).
const pods = [
  {
    name: 'kuard-dbdd7955d-4kdbr',
    status: 'Running',
    ip: '192.168.3.140',
    hostIP: '10.0.8.254',
    labels: { app: 'kuard' },
  },
  {
    name: 'kuard-dbdd7955d-5r757',
    status: 'Running',
    ip: '192.168.49.6',
    hostIP: '10.0.8.176',
    labels: { app: 'kuard' },
  },
  {
    name: 'kuard-dbdd7955d-dhts5',
    status: 'Pending',
    ip: '10.0.8.176',
    hostIP: '10.0.8.176',
    labels: { app: 'kuard' },
  },
  {
    name: 'coredns-78fcdf6894-fpt2m',
    status: 'Running',
    ip: '192.168.0.2',
    hostIP: '10.0.18.181',
    labels: { 'k8s-app': 'kube-dns' },
  },
];
const ctx: AssertionContext = {
  state: {
    pods,
    services: [{ name: 'kuard', type: 'LoadBalancer', clusterIP: '10.97.169.67', replicas: 3 }],
    probabilities: { 'ip-10-0-8-254': ['0.1', '0.11111', '0.5'], 'ip-10-0-8-176': ['0.1', '0.5'] },
    samples: [
      { env: { HOSTNAME: 'kuard-a' } },
      { env: { HOSTNAME: 'kuard-b' } },
      { env: { HOSTNAME: 'kuard-a' } },
    ],
    want: { running: 2 },
  },
  findings: [{ code: 'sep-missing', message: 'endpoint 192.168.49.9:8080 has no KUBE-SEP on ip-10-0-8-176' }],
};

describe('assertion language', () => {
  it('count: passes, and on failure lists the items that were not counted with the fields asked about', () => {
    expect(evaluateAssertion(a('count', 'pods where status=Running and labels.app=kuard == 2'), ctx).ok).toBe(
      true,
    );
    const r = evaluateAssertion(a('count', 'pods where status=Running and labels.app=kuard == 3'), ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toBe('count: pods where status=Running and labels.app=kuard == 3: found 2 of 4');
    expect(r.evidence).toContain('not counted: kuard-dbdd7955d-dhts5 (status=Pending, labels.app=kuard)');
    expect(r.evidence).toContain(
      'not counted: coredns-78fcdf6894-fpt2m (status=Running, labels.app=(missing))',
    );
  });

  it('count: a bare where-field followed by the comparison, and a variable as the number', () => {
    expect(evaluateAssertion(a('count', 'pods where ip >= 4'), ctx).ok).toBe(true);
    expect(
      evaluateAssertion(a('count', 'pods where status=Running and labels.app=kuard == {{want.running}}'), ctx)
        .ok,
    ).toBe(true);
  });

  it('every: names each item that does not hold; @field compares two fields of one item', () => {
    const r = evaluateAssertion(a('every', 'pods where labels.app=kuard have ip != @hostIP'), ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toBe('every: pods where labels.app=kuard have ip != @hostIP: 1 of 3 do not');
    expect(r.evidence).toEqual(['kuard-dbdd7955d-dhts5 (ip=10.0.8.176)']);
  });

  it('every over a per-node map names the node', () => {
    const r = evaluateAssertion(a('every', 'probabilities have length == 3 and it[0] == 0.1'), ctx);
    expect(r.ok).toBe(false);
    expect(r.evidence).toEqual(['ip-10-0-8-176 (length=2, it[0]=0.1)']);
  });

  it('every over an empty scope fails (nothing to check is not a pass)', () => {
    const r = evaluateAssertion(a('every', 'pods where labels.app=nginx have status=Running'), ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/there are none to check/);
  });

  it('some, none, distinct, that', () => {
    expect(evaluateAssertion(a('some', 'pods where name~^coredns-'), ctx).ok).toBe(true);
    const none = evaluateAssertion(a('none', 'pods where status=Pending'), ctx);
    expect(none.ok).toBe(false);
    expect(none.evidence).toEqual(['matches: kuard-dbdd7955d-dhts5 (status=Pending)']);
    const d = evaluateAssertion(a('distinct', 'env.HOSTNAME of samples >= 3'), ctx);
    expect(d.ok).toBe(false);
    expect(d.evidence).toEqual(['kuard-a: 2', 'kuard-b: 1']);
    expect(evaluateAssertion(a('that', 'services.kuard.type == LoadBalancer'), ctx).ok).toBe(true);
    expect(evaluateAssertion(a('that', 'services.kuard.clusterIP ~ "^10\\.97\\."'), ctx).ok).toBe(true);
    expect(evaluateAssertion(a('that', 'services.kuard.replicas > 2'), ctx).ok).toBe(true);
  });

  it('no-findings shows the findings as evidence', () => {
    const r = evaluateAssertion(a('no-findings', ['sep-missing', 'sep-stale']), ctx);
    expect(r.ok).toBe(false);
    expect(r.evidence).toEqual(['sep-missing: endpoint 192.168.49.9:8080 has no KUBE-SEP on ip-10-0-8-176']);
    expect(evaluateAssertion(a('no-findings', ['probability-skewed']), ctx).ok).toBe(true);
    expect(evaluateAssertion(a('no-findings', 'all'), ctx).ok).toBe(false);
  });

  it('a missing collection or variable is a failed assertion that says what is missing', () => {
    const r = evaluateAssertion(a('count', 'endpoints == 10'), ctx);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/has no "endpoints" \(known: pods, services, probabilities, samples, want\)/);
    const v = evaluateAssertion(a('that', 'services.kuard.type == {{services.nginx.type}}'), ctx);
    expect(v.ok).toBe(false);
    expect(v.message).toMatch(/services has no item named "nginx" \(it is a list of 1; names: kuard\)/);
  });

  it('syntax errors come with advice', () => {
    const bad = parseAssertion('count', 'pods where status=Running');
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/expected a comparison/) });
    expect(parseAssertion('count', 'pods where status=Running == Running')).toMatchObject({
      ok: false,
      error: 'a count is compared with a number, not "Running"',
    });
    expect(parseAssertion('every', 'pods status=Running')).toMatchObject({ ok: false });
    expect(parseAssertion('that', 'a.b ==')).toMatchObject({
      ok: false,
      error: 'expected a value at the end',
    });
    expect(parseAssertion('some', 'pods where name="unclosed')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unclosed quote/),
    });
    expect(parseAssertion('that', 'x ~ "(?i)abc"')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^"\(\?i\)abc" is not a valid regular expression/),
    });
    expect(parseAssertion('some', 'pods where name~"[unclosed"')).toMatchObject({ ok: false });
    // A lone "!" once looped forever in the tokenizer (found by test/labs/untrustedInput.test.ts).
    expect(parseAssertion('that', 'a ! b')).toMatchObject({ ok: false, error: 'unexpected "!" at column 3' });
    expect(parseAssertion('exists', 'pods')).toMatchObject({
      ok: false,
      advice: expect.stringMatching(/count, every/),
    });
  });
});
