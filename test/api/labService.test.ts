import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabService, type LabCommandView, type LabConfirmRequest } from '../../src/api/labService.js';
import { SnapshotService } from '../../src/api/snapshotService.js';
import type { CheckResult } from '../../src/labs/runner.js';

const labMd = `---
id: tiny
title: A tiny lab
summary: Two steps on local bash.
estimatedTime: 5m
roles:
  workstation: {description: this machine}
---
Intro text.

## Pods

\`\`\`sh {role=workstation parse=kubectl-table id=get-pods}
printf 'NAME      READY   STATUS    RESTARTS   AGE\\nkuard-1   1/1     Running   0          1m\\nkuard-2   0/1     Pending   0          1m\\n'
\`\`\`

\`\`\`yaml {checks}
- id: two-pods
  title: Two pods are listed
  assert:
    - count: pods where status=Running == 2
  hint: One of them is still Pending.
\`\`\`

## Exit codes

\`\`\`sh {role=workstation id=fails}
echo going wrong >&2; exit 4
\`\`\`
`;

describe('LabService', () => {
  let root: string;
  let service: LabService;
  let snapshot: SnapshotService;
  const commands: LabCommandView[] = [];
  const checks: { step: string; result: CheckResult }[] = [];
  const confirms: LabConfirmRequest[] = [];
  const steps: string[] = [];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'labdeck-labservice-'));
    mkdirSync(join(root, 'labs', 'tiny'), { recursive: true });
    writeFileSync(join(root, 'labs', 'tiny', 'lab.md'), labMd);
    writeFileSync(join(root, 'inventory.yaml'), `environment: here\nroles:\n  workstation: local\n`);
    snapshot = new SnapshotService(() => {});
    commands.length = 0;
    checks.length = 0;
    confirms.length = 0;
    steps.length = 0;
    service = new LabService({
      labsDir: join(root, 'labs'),
      dataDir: join(root, 'data'),
      snapshot,
      events: {
        command: (v) => commands.push(v),
        check: (e) => checks.push(e),
        step: (e) => steps.push(e.result.id),
        confirm: (request) => confirms.push(request),
      },
    });
  });

  afterEach(() => {
    service.dispose();
    snapshot.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists and opens the app labs, trusted as built-in', () => {
    expect(service.list()).toEqual([
      {
        id: 'tiny',
        title: 'A tiny lab',
        summary: 'Two steps on local bash.',
        estimatedMinutes: 5,
        builtin: true,
        trusted: true,
        recordings: [],
      },
    ]);
    const doc = service.open('tiny');
    expect(doc.lab.steps.map((s) => s.id)).toEqual(['pods', 'exit-codes']);
    expect(() => service.open('nope')).toThrow(/no lab "nope"/);
  });

  it('runs a block on the bound machine, streams its output and feeds the parsed table to the snapshot', async () => {
    const session = await service.start({ labId: 'tiny', inventory: join(root, 'inventory.yaml') });
    expect(session).toMatchObject({ labId: 'tiny', environment: 'here', recorded: false });
    expect(await service.runBlock(session.id, 'pods', 'get-pods')).toEqual({
      id: 'get-pods',
      status: 'done',
    });
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      session: session.id,
      role: 'workstation',
      exitCode: 0,
      parsedAs: 'kubectl-table',
    });
    expect(commands[0]?.stdout).toContain('kuard-2   0/1     Pending');
    expect(snapshot.view().captures).toMatchObject([
      { kind: 'kubectl-table', origin: 'lab', node: 'workstation' },
    ]);

    const results = await service.runChecks(session.id, 'pods');
    expect(results).toMatchObject([
      { id: 'two-pods', status: 'failed', hint: 'One of them is still Pending.' },
    ]);
    expect(results[0]?.message).toContain('count: pods where status=Running == 2');
    expect(results[0]?.evidence.join(' ')).toContain('kuard-2');
    expect(checks.map((c) => c.result.id)).toEqual(['two-pods']);

    const failed = await service.runBlock(session.id, 'exit-codes', 'fails');
    expect(failed.status).toBe('failed');
    expect(failed.message).toContain('exited 4 (expected 0): going wrong');

    // Progress is kept per lab and environment, on disk.
    await service.stop(session.id);
    const saved = JSON.parse(readFileSync(join(root, 'data', 'progress', 'tiny', 'here.json'), 'utf8')) as {
      steps: Record<string, { checks: Record<string, { status: string }> }>;
    };
    expect(saved.steps['pods']?.checks['two-pods']?.status).toBe('failed');
  });

  it('says clearly what is wrong with a binding', async () => {
    await expect(service.start({ labId: 'tiny' })).rejects.toThrow(
      /either a recording to replay or an inventory file/,
    );
    await expect(service.start({ labId: 'tiny', replay: '../../etc' })).rejects.toThrow(
      /not a recording name/,
    );
    await expect(service.start({ labId: 'tiny', replay: 'missing' })).rejects.toThrow(
      /cannot read the recording/,
    );
    writeFileSync(join(root, 'bad.yaml'), 'environment: x\nroles:\n  nobody: local\n');
    await expect(service.start({ labId: 'tiny', inventory: join(root, 'bad.yaml') })).rejects.toThrow(
      /workstation/,
    );
  });

  it('keeps what two sessions of one lab and environment record, in one progress file', async () => {
    const a = await service.start({ labId: 'tiny', inventory: join(root, 'inventory.yaml') });
    const b = await service.start({ labId: 'tiny', inventory: join(root, 'inventory.yaml') });
    await service.runChecks(a.id, 'pods');
    await service.runBlock(b.id, 'exit-codes', 'fails');
    await service.runStep(b.id, 'exit-codes', false);
    expect(steps).toEqual(['exit-codes']);
    await service.stop(a.id);
    await service.stop(b.id);
    const saved = JSON.parse(readFileSync(join(root, 'data', 'progress', 'tiny', 'here.json'), 'utf8')) as {
      steps: Record<string, { status?: string; checks: Record<string, { status: string }> }>;
    };
    expect(saved.steps['pods']?.checks['two-pods']?.status).toBe('failed');
    expect(saved.steps['exit-codes']?.status).toBe('failed');
  });

  it('opens a lab from elsewhere untrusted: every command is shown with where it runs and asked first', async () => {
    const outside = join(root, 'elsewhere', 'tiny-copy');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'lab.md'), labMd.replace('id: tiny', 'id: tiny-copy'));
    expect(service.add(outside)).toMatchObject({ id: 'tiny-copy', builtin: false, trusted: false });
    expect(service.list().map((l) => l.id)).toEqual(['tiny', 'tiny-copy']);
    const twin = join(root, 'elsewhere', 'twin');
    mkdirSync(twin, { recursive: true });
    writeFileSync(join(twin, 'lab.md'), labMd);
    expect(() => service.add(twin)).toThrow(/a lab with id "tiny" is already open/);
    expect(() => service.add(join(root, 'elsewhere'))).toThrow(/has no lab.md/);

    const session = await service.start({ labId: 'tiny-copy', inventory: join(root, 'inventory.yaml') });
    const ran = service.runBlock(session.id, 'pods', 'get-pods');
    await expect.poll(() => confirms.length).toBe(1);
    expect(confirms[0]).toMatchObject({
      session: session.id,
      role: 'workstation',
      step: 'pods',
      block: 'get-pods',
    });
    expect(confirms[0]?.where).toMatch(/^workstation \(local bash/);
    expect(confirms[0]?.command).toContain("printf 'NAME");
    expect(commands).toEqual([]); // nothing ran before the answer
    service.answer(confirms[0]!.request, true);
    expect(await ran).toEqual({ id: 'get-pods', status: 'done' });
    expect(commands).toHaveLength(1);

    const declined = service.runBlock(session.id, 'exit-codes', 'fails');
    await expect.poll(() => confirms.length).toBe(2);
    service.answer(confirms[1]!.request, false);
    expect(await declined).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/you declined to run on workstation/),
    });
    expect(commands).toHaveLength(1);

    // Trusted from now on (until the folder changes): nothing more is asked.
    expect(await service.setTrusted('tiny-copy', true)).toMatchObject({ trusted: true });
    const again = await service.start({ labId: 'tiny-copy', inventory: join(root, 'inventory.yaml') });
    expect((await service.runBlock(again.id, 'exit-codes', 'fails')).status).toBe('failed');
    expect(confirms).toHaveLength(2);
  });
});

describe('LabService replaying a shipped recording made with --skip-setup', () => {
  it('skips the setup blocks the recording has no answers for, whoever runs the step', async () => {
    const root = mkdtempSync(join(tmpdir(), 'labdeck-labservice-replay-'));
    const snapshot = new SnapshotService(() => {});
    const service = new LabService({
      labsDir: join(import.meta.dirname, '../../labs'),
      dataDir: join(root, 'data'),
      snapshot,
      events: { command: () => {}, check: () => {}, step: () => {}, confirm: () => {} },
    });
    try {
      const lab = 'tgik-002-networking-and-services';
      const first = service.open(lab).lab.steps[0]!;
      const session = await service.start({ labId: lab, replay: 'sandbox' });
      // the renderer never asks for skipSetup: the service knows this recording has no setup runs
      const result = await service.runStep(session.id, first.id, false);
      const setup = first.blocks.filter((b) => b.kind === 'setup').map((b) => b.id);
      expect(setup.length).toBeGreaterThan(0);
      for (const id of setup)
        expect(result.blocks.find((b) => b.id === id)).toMatchObject({
          status: 'skipped',
          message: 'setup skipped',
        });
      expect(result.status).toBe('done');
      expect(result.blocks.filter((b) => b.status === 'failed')).toEqual([]);
    } finally {
      service.dispose();
      snapshot.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
