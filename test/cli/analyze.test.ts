import { describe, expect, it } from 'vitest';
import { parseFileSpec } from '../../src/cli/commands/analyze.js';

describe('labdeck analyze FILE prefixes', () => {
  it('reads NODE= and KIND: in either order, and leaves other colons to the path', () => {
    expect(parseFileSpec('dump.txt')).toEqual({ path: 'dump.txt', node: null, kind: null });
    expect(parseFileSpec('NODE=node-a:iptables-save:dump.txt')).toEqual({
      path: 'dump.txt',
      node: 'node-a',
      kind: 'iptables-save',
    });
    expect(parseFileSpec('kubectl-object:NODE=m1:svc.yaml')).toEqual({
      path: 'svc.yaml',
      node: 'm1',
      kind: 'kubectl-object',
    });
    expect(parseFileSpec('notakind:file.txt')).toEqual({ path: 'notakind:file.txt', node: null, kind: null });
  });
});
