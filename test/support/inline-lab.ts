// Small labs written inline in a test: the front matter every such lab shares, and local bash for every role.
import { parseLab } from '../../src/labs/loadLab.js';
import type { Lab } from '../../src/labs/model.js';
import type { BoundTarget } from '../../src/labs/runner.js';
import { LocalTarget } from '../../src/targets/localTarget.js';

/** Parses `body` under a minimal front matter with `roles`; a lab that does not load throws its errors. */
export function inlineLab(body: string, roles = 'roles: {w: {description: local shell}}'): Lab {
  const r = parseLab(
    ['---', 'id: t', 'title: T', 'summary: S', 'estimatedTime: 1m', roles, '---', body].join('\n'),
  );
  if (!r.lab) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.lab;
}

/** Binds every role to one local bash target in `cwd`. */
export function localTargets(cwd: string): (role: string) => BoundTarget[] {
  return (role) => [{ instance: role, target: new LocalTarget({ cwd }) }];
}
