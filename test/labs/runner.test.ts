import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../../src/cli/commands/lab.js';
import { loadLabDir } from '../../src/labs/loadLab.js';
import { ProgressStore, progressFile } from '../../src/labs/progress.js';
import { LabRunner, type BoundTarget, type ConfirmRequest, type StepResult } from '../../src/labs/runner.js';
import { createTarget } from '../../src/targets/createTarget.js';
import { LocalTarget } from '../../src/targets/localTarget.js';
import { loadRecording, RecordingWriter } from '../../src/targets/recording.js';
import type { Target } from '../../src/targets/target.js';
import { inlineLab, localTargets } from '../support/inline-lab.js';

const tmp = mkdtempSync(join(tmpdir(), `labdeck-runner-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const podLab = loadLabDir(join(import.meta.dirname, '../../labs/pod-network-anatomy')).lab!;
const podSteps = ['who-am-i', 'interfaces', 'dns', 'service-env'];

/** The `pod` role bound to local bash: a double of a pod shell, with the two variables Kubernetes would inject. */
const podDoubleEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

function summary(results: StepResult[]): unknown {
  return results.map((r) => ({
    step: r.id,
    status: r.status,
    checks: r.checks.map((c) => [c.id, c.status, c.message ?? '']),
  }));
}

describe('running the pod lab against the local target', () => {
  const recDir = join(tmp, 'recordings', 'local-double');
  const live: StepResult[] = [];

  it('runs the pod steps on local bash, checks pass or fail from the real output, and records the run', async () => {
    const writer = new RecordingWriter(recDir, {
      lab: { id: podLab.id, title: podLab.title },
      name: 'local-double',
      environment: 'local bash standing in for a pod (test double)',
    });
    const progress = ProgressStore.open(progressFile(tmp, podLab.id, 'local'), podLab.id, 'local');
    const runner = new LabRunner({
      lab: podLab,
      targets: (role) => [
        { instance: role, target: new LocalTarget(role === 'pod' ? { env: podDoubleEnv } : {}) },
      ],
      parse: parseOutput,
      progress,
      trusted: true,
      observer: {
        step: (s) => writer.step(s.id, s.title),
        command: (c) =>
          writer.command({
            step: c.step,
            block: c.block,
            role: c.role,
            instance: c.instance,
            command: c.command,
            stdout: c.result.stdout,
            stderr: c.result.stderr,
            exitCode: c.result.exitCode,
            startedAt: c.result.startedAt,
            endedAt: c.result.endedAt,
          }),
      },
    });
    try {
      for (const id of podSteps) live.push(await runner.runStep(id));
    } finally {
      runner.dispose();
    }
    await writer.close();

    const byId = Object.fromEntries(live.flatMap((s) => s.checks.map((c) => [c.id, c])));
    expect(byId['hostname-known']?.status).toBe('done');
    expect(byId['has-eth0']?.status).toBe(
      /\beth0\b/.test(readFileSync('/proc/net/dev', 'utf8')) ? 'done' : 'failed',
    );
    expect(byId['loopback-present']?.status).toBe('done');
    expect(byId['api-host-in-env']?.status).toBe('done');
    // The cluster search domain exists only inside a pod; on this machine the check must fail and show the file.
    const resolv = readFileSync('/etc/resolv.conf', 'utf8');
    const hasClusterSearch = /^search\s.*svc\.cluster\.local/m.test(resolv);
    expect(byId['dns-search-cluster']?.status).toBe(hasClusterSearch ? 'done' : 'failed');
    if (!hasClusterSearch) {
      expect(byId['dns-search-cluster']?.message).toMatch(
        /^The pod's resolv.conf has no cluster search domain: some: resolv/,
      );
      const firstLine = resolv.split('\n').find((l) => l.trim());
      expect(byId['dns-search-cluster']?.evidence[0]).toBe(`does not match: ${firstLine} (it=${firstLine})`);
    }
    expect(progress.get().steps['who-am-i']?.status).toBe('done');

    const rec = loadRecording(recDir);
    expect(rec.entries.map((e) => e.command)).toEqual([
      'hostname',
      'ip -o -4 addr show',
      'cat /etc/resolv.conf',
      "env | grep '^KUBERNETES_' | sort",
    ]);
    const cast = readFileSync(join(recDir, 'pod.cast'), 'utf8').trim().split('\n');
    expect(JSON.parse(cast[0]!)).toMatchObject({ version: 2, width: 120, height: 40 });
    const events = cast.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    expect(events.filter((e) => e[1] === 'm' && e[2].startsWith('step:')).map((e) => e[2])).toEqual([
      'step:who-am-i Who am I?',
      "step:interfaces The pod's own interface",
      'step:dns DNS settings',
      'step:service-env Where the API server is',
    ]);
    expect(events.filter((e) => e[1] === 'm' && e[2].startsWith('cmd:'))).toHaveLength(4);
    for (let i = 1; i < events.length; i++) expect(events[i]![0]).toBeGreaterThanOrEqual(events[i - 1]![0]);
  });

  it('replays the recording with no machine at all and gets the same results, labelled as recorded', async () => {
    const recordings = new Map();
    const runner = new LabRunner({
      lab: podLab,
      targets: (role) => [
        {
          instance: role,
          target: createTarget({ kind: 'replay', recording: recDir }, { role, instance: role, recordings }),
        },
      ],
      parse: parseOutput,
      trusted: false, // nothing runs on a machine, yet the runner still asks for an untrusted lab; the test answers yes
      confirm: () => Promise.resolve(true),
    });
    const replayed: StepResult[] = [];
    try {
      for (const id of podSteps) replayed.push(await runner.runStep(id));
      expect(runner.recorded).toBe(true);
    } finally {
      runner.dispose();
    }
    expect(summary(replayed)).toEqual(summary(live));
    expect(live.length).toBe(4);
  });
});

describe('runner rules', () => {
  it('an untrusted lab with no one to ask runs nothing', async () => {
    const dir = mkdtempSync(join(tmp, 'untrusted-'));
    const lab = inlineLab(
      '## Make\n\n```sh {role=w}\ntouch made\n```\n\n```yaml {checks}\n- id: made\n  run: {role: w, command: test -f made}\n```\n',
    );
    const runner = new LabRunner({ lab, targets: localTargets(dir), parse: parseOutput, trusted: false });
    const r = await runner.runStep('make');
    runner.dispose();
    expect(r.status).toBe('failed');
    expect(r.message).toBe('the lab is not trusted and there is no one to ask before running: touch made');
    expect(existsSync(join(dir, 'made'))).toBe(false);
  });

  it('an untrusted lab shows each command and where it runs; no stops it, yes runs it once per command', async () => {
    const dir = mkdtempSync(join(tmp, 'ask-'));
    const lab = inlineLab(
      '## Make\n\n```sh {role=w}\ntouch made\n```\n\n```yaml {checks}\n- id: made\n  run: {role: w, command: test -f made}\n  retries: 2\n  delay: 1ms\n```\n',
    );
    const asked: ConfirmRequest[] = [];
    const no = new LabRunner({
      lab,
      targets: localTargets(dir),
      parse: parseOutput,
      trusted: false,
      confirm: (req) => {
        asked.push(req);
        return Promise.resolve(false);
      },
    });
    const declined = await no.runStep('make');
    no.dispose();
    expect(declined.message).toBe(`you declined to run on w (local bash in ${dir}): touch made`);
    expect(asked).toEqual([
      {
        step: 'make',
        block: 'make-1',
        role: 'w',
        instance: 'w',
        where: `w (local bash in ${dir})`,
        command: 'touch made',
      },
    ]);
    expect(existsSync(join(dir, 'made'))).toBe(false);

    asked.length = 0;
    const yes = new LabRunner({
      lab,
      targets: localTargets(dir),
      parse: parseOutput,
      trusted: false,
      confirm: (req) => {
        asked.push(req);
        return Promise.resolve(true);
      },
    });
    expect((await yes.runStep('make')).status).toBe('done');
    expect(await yes.runStep('make')).toMatchObject({ status: 'done' });
    yes.dispose();
    expect(asked.map((a) => a.command)).toEqual(['touch made', 'test -f made']);
  });

  it('retries a check with its delay until it passes, and reports attempts', async () => {
    const dir = mkdtempSync(join(tmp, 'retry-'));
    const lab = inlineLab(
      '## Wait\n\n```yaml {checks}\n- id: appears\n  run: {role: w, command: test -f later}\n  retries: 5\n  delay: 3s\n```\n',
    );
    const sleeps: number[] = [];
    const runner = new LabRunner({
      lab,
      targets: localTargets(dir),
      parse: parseOutput,
      trusted: true,
      sleep: (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) writeFileSync(join(dir, 'later'), '');
        return Promise.resolve();
      },
    });
    const r = await runner.runStep('wait');
    runner.dispose();
    expect(r.checks[0]).toMatchObject({ status: 'done', attempts: 3 });
    expect(sleeps).toEqual([3000, 3000]);
  });

  it('a failed check after all retries says why, with the command output; needs skips dependants', async () => {
    const dir = mkdtempSync(join(tmp, 'fail-'));
    const lab = inlineLab(
      [
        '## Fail',
        '',
        '```yaml {checks}',
        '- id: first',
        '  run: {role: w, command: "echo no route to 10.244.1.5 >&2; exit 3"}',
        '  retries: 1',
        '  delay: 1ms',
        '  hint: look at the routes',
        '- id: second',
        '  needs: [first]',
        '  run: {role: w, command: "true"}',
        '```',
      ].join('\n'),
    );
    const runner = new LabRunner({ lab, targets: localTargets(dir), parse: parseOutput, trusted: true });
    const r = await runner.runStep('fail');
    runner.dispose();
    expect(r.status).toBe('failed');
    expect(r.checks[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      hint: 'look at the routes',
      message: `on w (local bash in ${dir}): \`echo no route to 10.244.1.5 >&2; exit 3\` exited 3 (expected 0): no route to 10.244.1.5 (after 2 attempts)`,
    });
    expect(r.checks[1]).toMatchObject({ status: 'skipped', message: 'needs check "first", which is failed' });
  });

  it('a many role keeps captures per instance when run on all, a plain value when run on first', async () => {
    const dir = mkdtempSync(join(tmp, 'many-'));
    const lab = inlineLab(
      [
        '## Nodes',
        '',
        '```sh {role=n parse=lines as=all}',
        'echo "$PWD" | tail -c 2',
        '```',
        '',
        '```sh {role=n on=first parse=lines as=one}',
        'echo first',
        '```',
        '',
        '```yaml {checks}',
        '- id: one-plain',
        '  run: {role: n, on: first, command: echo checked, parse: lines, as: checked}',
        '  assert:',
        '    - count: one where it=first == 1',
        '    - that: checked[0] == checked',
        '    - count: all == 2',
        '```',
      ].join('\n'),
      'roles: {n: {description: nodes, many: true}}',
    );
    for (const d of ['a', 'b']) mkdirSync(join(dir, d));
    const runner = new LabRunner({
      lab,
      targets: () => ['a', 'b'].map((d) => ({ instance: d, target: new LocalTarget({ cwd: join(dir, d) }) })),
      parse: parseOutput,
      trusted: true,
    });
    const r = await runner.runStep('nodes');
    const state = runner.state().state;
    runner.dispose();
    expect(state['all']).toEqual({ a: ['a'], b: ['b'] });
    expect(state['one']).toEqual(['first']);
    expect(r.checks[0]).toMatchObject({ status: 'done' });
  });

  it('an unresolved variable stops the step before anything runs, and names what is missing', async () => {
    const dir = mkdtempSync(join(tmp, 'var-'));
    const lab = inlineLab(
      '## Get\n\n```sh {role=w parse=json as=svc}\necho \'{"spec":{"clusterIP":"10.96.0.7"}}\'\n```\n\n```yaml {checks}\n- id: got\n  assert: [{that: svc.spec.clusterIP == 10.96.0.7}]\n```\n\n## Use\n\n```sh {role=w}\necho {{svc.spec.clusterIP}} > used\n```\n\n```yaml {checks}\n- id: used\n  run: {role: w, command: "grep -q 10.96.0.7 used"}\n```\n',
    );
    const runner = new LabRunner({ lab, targets: localTargets(dir), parse: parseOutput, trusted: true });
    const early = await runner.runStep('use');
    expect(early.message).toBe(
      'block 1 (use-1) failed: {{svc.spec.clusterIP}} cannot be resolved: the state has no "svc" (it is empty). Run the step that captures it first (or check its output).',
    );
    expect(existsSync(join(dir, 'used'))).toBe(false);
    expect((await runner.runStep('get')).status).toBe('done');
    expect((await runner.runStep('use')).status).toBe('done');
    runner.dispose();
  });

  it('setup blocks are skipped with skipSetup; runAll starts from a step', async () => {
    const dir = mkdtempSync(join(tmp, 'setup-'));
    const lab = inlineLab(
      '## One\n\n```sh {role=w kind=setup}\ntouch one\n```\n\n```sh {role=w kind=check}\ntest ! -f one\n```\n\n## Two\n\n```sh {role=w}\ntouch two\n```\n\n```yaml {checks}\n- id: two\n  run: {role: w, command: test -f two}\n```\n',
    );
    const runner = new LabRunner({ lab, targets: localTargets(dir), parse: parseOutput, trusted: true });
    const s = await runner.runAll({ skipSetup: true });
    expect(s.ok).toBe(true);
    expect(s.steps[0]?.blocks[0]).toMatchObject({ status: 'skipped', message: 'setup skipped' });
    expect(existsSync(join(dir, 'one'))).toBe(false);
    const from = await runner.runAll({ from: 'two' });
    expect(from.steps.map((x) => x.id)).toEqual(['two']);
    runner.dispose();
  });

  it('runs on every instance of a many role, or on the one named; an unknown instance fails clearly', async () => {
    const dirs = ['n1', 'n2'].map((n) => mkdtempSync(join(tmp, `${n}-`)));
    const lab = inlineLab(
      [
        '## Nodes',
        '',
        '```sh {role=node}',
        'touch here',
        '```',
        '',
        '```sh {role=node on=n2}',
        'touch only-n2',
        '```',
        '',
        '```yaml {checks}',
        '- id: on-all',
        '  run: {role: node, command: "test -f here && echo ok"}',
        '- id: missing',
        '  run: {role: node, on: n3, command: "true"}',
        '```',
      ].join('\n'),
      'roles: {node: {description: nodes, many: true}}',
    );
    const targets = (): BoundTarget[] =>
      dirs.map((cwd, i) => ({ instance: `n${i + 1}`, target: new LocalTarget({ cwd }) as Target }));
    const runner = new LabRunner({ lab, targets, parse: parseOutput, trusted: true });
    const r = await runner.runStep('nodes');
    runner.dispose();
    expect(dirs.map((d) => existsSync(join(d, 'here')))).toEqual([true, true]);
    expect(dirs.map((d) => existsSync(join(d, 'only-n2')))).toEqual([false, true]);
    expect(r.checks[0]).toMatchObject({ status: 'done' });
    expect(r.checks[1]).toMatchObject({
      status: 'failed',
      message: 'role "node" has no instance "n3" in the inventory (instances: n1, n2)',
    });
  });
});
