import { describe, expect, it } from 'vitest';
import { formatAsciicastEvent, formatAsciicastHeader } from '../../src/terminal/asciicast.js';
import { TerminalManager } from '../../src/terminal/terminalManager.js';
import type { TerminalBlock, TerminalExit } from '../../src/terminal/types.js';

const cast =
  formatAsciicastHeader({ version: 2, width: 90, height: 20, title: 'lab run' }) +
  formatAsciicastEvent(0.1, 'o', 'LDTEST> ') +
  formatAsciicastEvent(0.2, 'i', 'secret typed input\r') +
  formatAsciicastEvent(0.3, 'o', 'kubectl get svc\r\n') +
  formatAsciicastEvent(0.3, 'm', '$ kubectl get svc') +
  formatAsciicastEvent(0.4, 'o', 'NAME   TYPE\r\nkuard  ClusterIP\r\n') +
  formatAsciicastEvent(0.5, 'm', 'exit 0') +
  formatAsciicastEvent(0.5, 'o', 'LDTEST> ') +
  formatAsciicastEvent(0.6, 'm', '$ false; x=1') +
  formatAsciicastEvent(0.7, 'm', 'exit 1') +
  formatAsciicastEvent(0.8, 'r', '100x30');

describe('replay of a recording', () => {
  it('plays output and rebuilds the blocks from the markers, then exits', async () => {
    const manager = new TerminalManager();
    try {
      const session = manager.createReplay({ cast, speed: 0 });
      let out = '';
      const blocks: TerminalBlock[] = [];
      session.onData((d) => {
        out += d;
        session.acknowledge(d.length);
      });
      session.onBlock((b) => blocks.push(b));
      const exit = await new Promise<TerminalExit>((r) => session.onExit(r));
      expect(exit).toEqual({ exitCode: 0, signal: null });
      expect(out).toBe('LDTEST> kubectl get svc\r\nNAME   TYPE\r\nkuard  ClusterIP\r\nLDTEST> ');
      expect(blocks.map((b) => [b.command, b.output, b.exitCode])).toEqual([
        ['kubectl get svc', 'NAME   TYPE\nkuard  ClusterIP', 0],
        ['false; x=1', '', 1],
      ]);
      expect(session.info()).toMatchObject({ kind: 'replay', title: 'lab run', cols: 90, rows: 20 });
      // Read-only: input goes nowhere.
      expect(() => session.write('ls\r')).not.toThrow();
    } finally {
      manager.dispose();
    }
  });

  it('says where a recording is broken', () => {
    const manager = new TerminalManager();
    try {
      expect(() => manager.createReplay({ cast: '{"version":2,"width":1,"height":1}\n[0,"x"]\n' })).toThrow(
        /line 2/,
      );
    } finally {
      manager.dispose();
    }
  });
});
