import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalTarget } from '../../src/targets/localTarget.js';
import { TerminalTarget } from '../../src/targets/terminalTarget.js';
import type { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalSession } from '../../src/terminal/types.js';
import { makeTerminalHome, newManager, ready, type TerminalHome } from '../support/terminal-harness.js';

describe('a lab target that types into a visible terminal (real bash through node-pty)', () => {
  let home: TerminalHome;
  let manager: TerminalManager;
  let session: TerminalSession;
  let target: TerminalTarget;

  beforeAll(async () => {
    home = makeTerminalHome();
    manager = newManager(home);
    session = manager.createLocal({ shell: 'bash', cols: 100, rows: 30, cwd: home.dir });
    await ready(session);
    target = new TerminalTarget(session, new LocalTarget({ cwd: home.dir }));
  });

  afterAll(() => {
    target?.dispose();
    manager?.dispose();
    home?.remove();
  });

  it('types the command at the prompt and returns its output and exit code from the marks', async () => {
    const r = await target.run('echo typed-here; (exit 3)', {});
    expect(r).toMatchObject({ stdout: 'typed-here\n', stderr: '', exitCode: 3 });
    // The user's terminal shows it as a command of its own.
    expect(session.blocks().at(-1)).toMatchObject({ command: 'echo typed-here; (exit 3)', exitCode: 3 });
  });

  it('runs a command of several lines on the same machine without the terminal (it cannot be one prompt line)', async () => {
    const before = session.blocks().length;
    const r = await target.run('echo one\necho two', {});
    expect(r).toMatchObject({ stdout: 'one\ntwo\n', exitCode: 0 });
    expect(session.blocks()).toHaveLength(before);
  });

  it('reports a terminal that is gone as a command that did not run, naming why', async () => {
    session.kill('SIGKILL');
    await new Promise<void>((resolve) => {
      if (session.info().exit) resolve();
      else session.onExit(() => resolve());
    });
    const r = await target.run('echo too-late', {});
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toMatch(/has exited; open a new terminal/);
  });
});
