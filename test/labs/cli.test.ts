import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli as run } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-cli-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});
const labs = join(import.meta.dirname, '../../labs');

describe('labdeck lab', () => {
  it('validate passes on the shipped labs', async () => {
    const r = await run(['lab', 'validate', join(labs, 'tgik-002-networking-and-services')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      'tgik-002-networking-and-services: valid: 12 steps, 26 blocks, 32 checks, roles workstation, master, node, pod\n',
    );
    expect((await run(['lab', 'validate', join(labs, 'pod-network-anatomy')])).code).toBe(0);
  });

  it('validate reports problems with paths and exits 1; --json gives them as data', async () => {
    const dir = join(import.meta.dirname, 'fixtures/labs-broken/undeclared-role');
    const r = await run(['lab', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'error: lab.md:33: step "Endpoints": block 2: role "nod" is not declared (did you mean "node"? roles: workstation, master, node)',
    );
    const j = await run(['lab', 'validate', '--json', dir]);
    expect(JSON.parse(j.out)).toMatchObject({
      ok: false,
      errors: [{ path: 'step "Endpoints": block 2', line: 33 }, {}],
    });
  });

  it('run records against local, then replays the recording with no cluster; exit codes follow the checks', async () => {
    const inv = join(tmp, 'inventory.yaml');
    // The pod role on local bash is a double of a pod shell; the two variables are what Kubernetes injects.
    writeFileSync(
      inv,
      'environment: local-double\nroles:\n  workstation: local\n  pod:\n    local:\n      env: {KUBERNETES_SERVICE_HOST: 10.96.0.1, KUBERNETES_SERVICE_PORT: "443"}\n',
    );
    const rec = join(tmp, 'rec');
    const data = join(tmp, 'data');
    const live = await run([
      'lab',
      'run',
      join(labs, 'pod-network-anatomy'),
      '--inventory',
      inv,
      '--from',
      'who-am-i',
      '--record',
      rec,
      '--data-dir',
      data,
      '--json',
    ]);
    const liveResult = JSON.parse(live.out) as {
      ok: boolean;
      recorded: boolean;
      steps: { id: string; status: string }[];
    };
    expect(liveResult.recorded).toBe(false);
    expect(liveResult.steps.map((s) => s.id)).toEqual([
      'who-am-i',
      'interfaces',
      'dns',
      'service-env',
      'clean-up',
    ]);
    // clean-up runs kubectl, which has no cluster here: the run fails, and says so in its exit code.
    expect(liveResult.ok).toBe(false);
    expect(live.code).toBe(1);
    expect(existsSync(join(rec, 'recording.json'))).toBe(true);

    const replay = await run([
      'lab',
      'run',
      join(labs, 'pod-network-anatomy'),
      '--replay',
      rec,
      '--from',
      'who-am-i',
      '--data-dir',
      data,
    ]);
    expect(replay.out).toContain(
      '[RECORDED] Nothing runs: results come from the replay of recording "rec" (local-double, recorded ',
    );
    expect(replay.out).toMatch(/\[RECORDED\] FAIL: \d\/5 steps done/);
    expect(replay.code).toBe(1);
    const replayJson = JSON.parse(
      (
        await run([
          'lab',
          'run',
          join(labs, 'pod-network-anatomy'),
          '--replay',
          rec,
          '--from',
          'who-am-i',
          '--data-dir',
          data,
          '--json',
        ])
      ).out,
    ) as { recorded: boolean; steps: { id: string; status: string }[] };
    expect(replayJson.recorded).toBe(true);
    expect(replayJson.steps.map((s) => [s.id, s.status])).toEqual(
      liveResult.steps.map((s) => [s.id, s.status]),
    );
  });

  it('an untrusted lab copied out of labs/ runs nothing without a terminal to ask, until trusted', async () => {
    const copy = join(tmp, 'copied-lab');
    cpSync(join(labs, 'pod-network-anatomy'), copy, { recursive: true });
    const inv = join(tmp, 'inv2.yaml');
    writeFileSync(inv, 'environment: local\nroles:\n  workstation: local\n  pod: local\n');
    const data = join(tmp, 'data2');
    const args = ['lab', 'run', copy, '--inventory', inv, '--from', 'who-am-i', '--data-dir', data, '--json'];
    const refused = await run(args);
    expect(refused.err).toContain('This lab is not trusted');
    const r = JSON.parse(refused.out) as { steps: { message?: string }[] };
    expect(r.steps[0]?.message).toBe(
      'the lab is not trusted and there is no one to ask before running: hostname',
    );
    expect((await run(['lab', 'trust', copy, '--data-dir', data])).out).toMatch(
      /trusted as sha256:[0-9a-f]{64}/,
    );
    const trusted = JSON.parse((await run(args)).out) as { steps: { id: string; status: string }[] };
    expect(trusted.steps[0]).toMatchObject({ id: 'who-am-i', status: 'done' });
  });

  it('bad inventories and bindings that cannot work stop before anything runs (exit 2)', async () => {
    const inv = join(tmp, 'ssh.yaml');
    writeFileSync(
      inv,
      'environment: x\nroles:\n  workstation: local\n  pod: {kubectl-debug: {node: "--all"}}\n',
    );
    const r = await run([
      'lab',
      'run',
      join(labs, 'pod-network-anatomy'),
      '--inventory',
      inv,
      '--data-dir',
      join(tmp, 'd3'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error: kubectl debug: node, namespace and image cannot start with "-"');
    // An ssh binding whose config cannot be read fails at bind time too, naming the file.
    writeFileSync(
      inv,
      'environment: x\nroles:\n  workstation: local\n  pod: {ssh: {config: ssh_config, host: pod1}}\n',
    );
    const ssh = await run([
      'lab',
      'run',
      join(labs, 'pod-network-anatomy'),
      '--inventory',
      inv,
      '--data-dir',
      join(tmp, 'd3'),
    ]);
    expect(ssh.code).toBe(2);
    expect(ssh.err).toContain(`error: role "pod": ssh host "pod1" in ${join(tmp, 'ssh_config')}: `);
    const missing = await run(['lab', 'run', join(labs, 'pod-network-anatomy')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--inventory FILE is required');
  });

  it("a check over the analysed snapshot fails with the finding's evidence (the seed's captures from two moments)", async () => {
    const fx = (p: string): string => join(import.meta.dirname, '../fixtures', p);
    const dir = join(tmp, 'seed-lab');
    cpSync(join(labs, 'pod-network-anatomy'), dir, { recursive: true }); // any folder; lab.md is replaced below
    writeFileSync(
      join(dir, 'lab.md'),
      [
        '---',
        'id: seed-mix',
        'title: Seed mix',
        'summary: Plays the seed captures through the analysed snapshot.',
        'estimatedTime: 1m',
        'roles: {workstation: {description: kubectl}, master: {description: control plane}}',
        '---',
        '## Capture',
        '',
        '```sh {role=workstation parse=kubectl-object}',
        `cat ${fx('kubectl-object/seed-none-endpoints-yaml.txt')}`,
        '```',
        '',
        '```sh {role=workstation parse=kubectl-object}',
        `cat ${fx('kubectl-object/seed-clusterip-svc-yaml.txt')}`,
        '```',
        '',
        // One capture per excerpt, as the seed printed them.
        ...['iptables-save-less', 'kube-svc-chain', 'kube-sep-chain'].flatMap((n) => [
          '```sh {role=master parse=iptables-save}',
          `cat ${fx(`iptables-save/seed-clusterip-${n}.txt`)}`,
          '```',
          '',
        ]),
        '',
        '```yaml {checks}',
        '- id: seps-match-endpoints',
        '  assert: [{no-findings: [sep-stale]}]',
        '```',
        '',
      ].join('\n'),
    );
    const inv = join(tmp, 'inv-seed.yaml');
    writeFileSync(inv, 'environment: seed\nroles: {workstation: local, master: local}\n');
    const data = join(tmp, 'data-seed');
    await run(['lab', 'trust', dir, '--data-dir', data]);
    const r = await run(['lab', 'run', dir, '--inventory', inv, '--data-dir', data]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('✘ seps-match-endpoints: no-findings: [sep-stale]: 1 finding(s)');
    expect(r.out).toMatch(
      /sep-stale: On master, KUBE-SEP-AOUKRORADL3ZFT3D sends 10\.0% of new connections to 192\.168\.236\.133:8080/,
    );
    expect(r.out).toContain('Findings from the analysed captures');
  });
});
