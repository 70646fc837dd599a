import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOutput } from '../../src/cli/commands/lab.js';
import { missingFor, namesProvidedBy, namesReadBy } from '../../src/labs/dependencies.js';
import { LabRunner } from '../../src/labs/runner.js';
import { inlineLab, localTargets } from '../support/inline-lab.js';

/** A failed block skips only the checks that read what it should have captured (docs/labs.md, "When a block fails"). */

const tmp = mkdtempSync(join(tmpdir(), `labdeck-blockfail-${process.pid}-`));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lab = inlineLab(
  [
    '## Mixed',
    '',
    '```sh {role=w parse=json as=good}',
    'echo \'{"n": 3}\'',
    '```',
    '',
    '```sh {role=w parse=json as=bad}',
    'echo "Error from server (NotFound): services \\"kuard\\" not found" >&2; exit 1',
    '```',
    '',
    '```sh {role=w parse=lines as=later}',
    'touch later-ran; echo x',
    '```',
    '',
    '```yaml {checks}',
    '- id: reads-good',
    '  assert: [{that: good.n == 3}]',
    '- id: own-command',
    '  run: {role: w, command: "true"}',
    '- id: reads-bad',
    '  assert: [{that: bad.n == 3}]',
    '- id: bad-in-command',
    '  run: {role: w, command: "echo {{bad.n}}"}',
    '- id: reads-later',
    '  assert: [{some: later}]',
    '- id: needs-skipped',
    '  needs: [reads-bad]',
    '  run: {role: w, command: "true"}',
    '```',
  ].join('\n'),
);

describe('when a block fails', () => {
  it('later blocks do not run, checks that need nothing from them run, the others are skipped saying why', async () => {
    const dir = mkdtempSync(join(tmp, 'mixed-'));
    const runner = new LabRunner({ lab, targets: localTargets(dir), parse: parseOutput, trusted: true });
    const r = await runner.runStep('mixed');
    runner.dispose();
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(
      /^block 2 \(mixed-2\) failed: on w .* exited 1 \(expected 0\): Error from server/,
    );
    expect(r.blocks.map((b) => [b.id, b.status])).toEqual([
      ['mixed-1', 'done'],
      ['mixed-2', 'failed'],
      ['mixed-3', 'skipped'],
    ]);
    expect(existsSync(join(dir, 'later-ran'))).toBe(false);
    const byId = Object.fromEntries(r.checks.map((c) => [c.id, [c.status, c.message ?? '']]));
    expect(byId).toEqual({
      'reads-good': ['done', ''],
      'own-command': ['done', ''],
      'reads-bad': [
        'skipped',
        'skipped: it reads "bad", which block 2 (mixed-2) should have captured, but that block failed',
      ],
      'bad-in-command': [
        'skipped',
        'skipped: it reads "bad", which block 2 (mixed-2) should have captured, but that block failed',
      ],
      'reads-later': [
        'skipped',
        'skipped: it reads "later", which block 3 (mixed-3) should have captured, but that block did not run (block 2 (mixed-2) failed before it)',
      ],
      'needs-skipped': ['skipped', 'needs check "reads-bad", which is skipped'],
    });
  });

  it('a block the analysis would have read skips the checks over collections and findings, not the others', () => {
    const l = inlineLab(
      [
        '## Chains',
        '',
        '```sh {role=w parse=iptables-save id=nat}',
        'iptables-save -t nat',
        '```',
        '',
        '```yaml {checks}',
        '- id: no-stale',
        '  assert: [{no-findings: [sep-stale]}]',
        '- id: has-services',
        '  assert: [{some: services}]',
        '- id: unrelated',
        '  run: {role: w, command: "true"}',
        '```',
      ].join('\n'),
    );
    const [block] = l.steps[0]?.blocks ?? [];
    if (!block) throw new Error('no block');
    expect(namesProvidedBy(block)).toContain('services');
    const lost = [{ block, why: 'failed' }];
    const checks = l.steps[0]?.checks ?? [];
    expect(checks.map((c) => missingFor(c, lost))).toEqual([
      "skipped: it reads the analysis' findings, which block 1 (nat, parse=iptables-save) would have fed, but that block failed",
      'skipped: it reads "services", which block 1 (nat, parse=iptables-save) would have fed, but that block failed',
      undefined,
    ]);
  });

  it('a check reads the roots of its command variables, assertion paths and assertion variables', () => {
    const l = inlineLab(
      [
        '## R',
        '',
        '```yaml {checks}',
        '- id: r',
        '  run: {role: w, command: "curl {{services[0].ip}}:{{endpoints[0].port}}"}',
        '  assert:',
        '    - every: samples.items have name == {{pods[0].name}}',
        '    - that: nodes.n1.name ~ x',
        '```',
      ].join('\n'),
    );
    const c = l.steps[0]?.checks[0];
    if (!c) throw new Error('no check');
    expect([...namesReadBy(c)].sort()).toEqual(['endpoints', 'nodes', 'pods', 'samples', 'services']);
  });

  it('a block that is not parsed captures nothing, so its failure skips no check by capture', () => {
    const l = inlineLab(
      '## S\n\n```sh {role=w}\nfalse\n```\n\n```yaml {checks}\n- id: s\n  assert: [{some: pods}]\n```\n',
    );
    const b = l.steps[0]?.blocks[0];
    const c = l.steps[0]?.checks[0];
    if (!b || !c) throw new Error('missing');
    expect(namesProvidedBy(b)).toEqual([]);
    expect(missingFor(c, [{ block: b, why: 'failed' }])).toBeUndefined();
  });
});
