import { describe, expect, it } from 'vitest';
import { TerminalManager } from '../../src/terminal/terminalManager.js';
import { FakeTerminalBackend } from '../support/terminal-fake-backend.js';

interface Spawned {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** A manager whose "pty" is a fake backend (a test double); records what would have been spawned. */
function managerWithFakeSpawn(env: Record<string, string>) {
  const spawned: Spawned[] = [];
  let n = 0;
  const manager = new TerminalManager({
    env,
    newId: () => `t${++n}`,
    spawnLocal: (o) => {
      spawned.push(o);
      return new FakeTerminalBackend();
    },
  });
  return { manager, spawned };
}

const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', SHELL: '/bin/bash' };

describe('TerminalManager', () => {
  it('starts $SHELL with our launcher, a clean terminal environment and the hooks in a variable', () => {
    const { manager, spawned } = managerWithFakeSpawn({
      ...baseEnv,
      TMUX: 'x',
      COLUMNS: '5',
      TERM: 'screen',
    });
    const s = manager.createLocal({ cols: 80, rows: 24, env: { LAB: '1' } });
    const [sp] = spawned;
    expect(sp?.file).toMatch(/\/bash$/);
    expect(sp?.args[0]).toBe('-c');
    expect(sp?.args[1]).toContain('--rcfile "/dev/fd/$fd" -i');
    expect(sp?.cwd).toBe('/tmp');
    expect(sp?.env).toMatchObject({
      TERM: 'xterm-256color',
      COLORTERM: 'truecolor',
      TERM_PROGRAM: 'LabDeck',
      LAB: '1',
    });
    expect(sp?.env).not.toHaveProperty('TMUX');
    expect(sp?.env).not.toHaveProperty('COLUMNS');
    expect(sp?.env.LABDECK_SHELL_INIT).toMatch(/__labdeck_k='k=[0-9a-f]{32}'/);
    expect(s.info()).toMatchObject({ id: 't1', kind: 'local', shell: '/bin/bash', cols: 80, rows: 24 });
    expect(manager.list().map((i) => i.id)).toEqual(['t1']);
    manager.dispose();
  });

  it('gives every session its own nonce, and none to a shell without hooks', () => {
    const { manager, spawned } = managerWithFakeSpawn(baseEnv);
    manager.createLocal({ shell: 'bash', cols: 80, rows: 24 });
    manager.createLocal({ shell: 'bash', cols: 80, rows: 24 });
    manager.createLocal({ shell: 'sh', cols: 80, rows: 24 });
    manager.createLocal({ shell: 'bash', cols: 80, rows: 24, shellIntegration: false });
    const nonces = spawned.map((s) => /k=([0-9a-f]{32})/.exec(s.env.LABDECK_SHELL_INIT ?? '')?.[1] ?? null);
    expect(nonces[0]).not.toBeNull();
    expect(nonces[0]).not.toBe(nonces[1]);
    expect(nonces.slice(2)).toEqual([null, null]);
    expect(spawned[2]?.args).toEqual([]);
    manager.dispose();
  });

  it('refuses to create after dispose, and close() forgets a session', () => {
    const { manager } = managerWithFakeSpawn(baseEnv);
    const s = manager.createLocal({ cols: 80, rows: 24 });
    manager.close(s.id);
    expect(manager.get(s.id)).toBeUndefined();
    manager.dispose();
    expect(() => manager.createLocal({ cols: 80, rows: 24 })).toThrow(/disposed/);
  });
});
