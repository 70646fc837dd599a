// recordedWithoutSetup on the TGIK-002 lab's shipped recordings: the sandbox one was made with --skip-setup
// (scripts/record-tgik-sandbox.sh), so its replay skips setup; the seed's answers its setup commands.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordedWithoutSetup } from '../../src/api/labBinding.js';
import { loadLabDir } from '../../src/labs/loadLab.js';
import { loadRecording } from '../../src/targets/recording.js';

const dir = join(import.meta.dirname, '../../labs/tgik-002-networking-and-services');

describe('recordedWithoutSetup', () => {
  const lab = loadLabDir(dir).lab!;

  it('says yes for the recording made with --skip-setup, no for one that ran the setup blocks', () => {
    expect(lab.steps.some((s) => s.blocks.some((b) => b.kind === 'setup'))).toBe(true);
    expect(recordedWithoutSetup(lab, loadRecording(join(dir, 'recordings/sandbox')))).toBe(true);
    expect(recordedWithoutSetup(lab, loadRecording(join(dir, 'recordings/seed-2019')))).toBe(false);
  });
});
