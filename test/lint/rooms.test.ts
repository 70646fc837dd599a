// The room rules of ARCHITECTURE.md ("may import") are lint errors: checked here with ESLint itself on probe files,
// because a rule that silently stops firing (it did once: imports written `./x.js` were not resolved to `./x.ts`,
// and unresolved imports are skipped) would let every wrong import through with lint still green.
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const eslint = new ESLint({ cwd: repo });

/** The room-rule messages ESLint gives for `source` as if it were the file at `path`. */
async function roomErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: resolve(repo, path) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths')
    .map((m) => m.message);
}

describe('room import rules (eslint import-x/no-restricted-paths)', () => {
  it.each([
    [
      'src/ssh/probe.ts',
      "import { parse } from '../parse/parse.js';\nexport const x = parse;\n",
      /src\/ssh may import only nothing of ours/,
    ],
    [
      'src/model/probe.ts',
      "import { parse } from '../parse/parse.js';\nexport const x = parse;\n",
      /src\/model may import only/,
    ],
    [
      'src/parse/probe.ts',
      "import { chiSquareTest } from '../analyze/index.js';\nexport const x = chiSquareTest;\n",
      /src\/parse may import only model/,
    ],
    [
      'src/host/web/probe.ts',
      "import { IpcBridge } from '../electron/ipc.js';\nexport const x = IpcBridge;\n",
      /must not know Electron/,
    ],
    [
      'src/host/web/probe.ts',
      "import { Sandbox } from '../../sandbox/sandbox.js';\nexport const x = Sandbox;\n",
      /may import only src\/api/,
    ],
    [
      'renderer/src/probe.ts',
      "import { ApiServer } from '../../src/api/server.js';\nexport const x = ApiServer;\n",
      /renderer imports only/,
    ],
  ])('%s: a forbidden import is an error', async (path, source, message) => {
    const errors = await roomErrors(path, source);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it.each([
    ['src/labs/probe.ts', "import { parse } from '../parse/parse.js';\nexport const x = parse;\n"],
    [
      'src/kube/probe.ts',
      "import { SshConnectionFactory } from '../ssh/index.js';\nexport const x = SshConnectionFactory;\n",
    ],
    [
      'renderer/src/probe.ts',
      "import type { SnapshotView } from '../../src/api/contract.js';\nexport type X = SnapshotView;\n",
    ],
  ])('%s: an allowed import is not', async (path, source) => {
    expect(await roomErrors(path, source)).toEqual([]);
  });
});
