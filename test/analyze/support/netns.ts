/**
 * A throwaway network namespace for loading rules with the real iptables-restore and reading them back with the real
 * iptables-save (iptables v1.8.9, nf_tables, on this machine). Nothing is sent anywhere; the namespace is deleted in
 * `dispose()`, which callers run in `afterAll`.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export class Netns {
  private disposed = false;

  private constructor(readonly name: string) {}

  static create(prefix: string): Netns {
    const name = `${prefix}${process.pid}${Math.floor(Math.random() * 1e4)}`.slice(0, 15);
    execFileSync('ip', ['netns', 'add', name]);
    return new Netns(name);
  }

  exec(cmd: string, args: readonly string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      encoding: 'utf8',
      ...(input !== undefined && { input }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** stdout then stderr, as a terminal shows a command's output. */
  execAll(cmd: string, args: readonly string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', this.name, cmd, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    return r.stdout + r.stderr;
  }

  /** Replace the tables in `text` (iptables-restore without --noflush), then dump them. */
  restoreAndSave(text: string, restore = 'iptables-restore', save = 'iptables-save'): string {
    this.exec(restore, [], text);
    return this.exec(save, []);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    execFileSync('ip', ['netns', 'del', this.name]);
  }
}
