/** Small kubectl outputs: `-o name`, `-o jsonpath` words, and action messages (`service/kuard exposed`). */
import type { ParseResult } from '../model/diagnostic.js';
import type { KubeObjects, KubectlAction } from '../model/kube.js';
import type { Words } from '../model/kuard.js';
import { emptyObjects } from './kube-map.js';
import { Diagnostics, field, splitLines, stripAnsi } from './text.js';

export type KubectlNameResult = ParseResult<'kubectl-name', KubeObjects>;
export type KubectlJsonpathResult = ParseResult<'kubectl-jsonpath', Words>;
export type KubectlActionResult = ParseResult<'kubectl-action', KubectlAction[]>;

const NAME_LINE = /^([a-z][a-z0-9.-]*)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/** `-o name`: one `resource/name` a line (`pod/kuard-…`, `deployment.apps/kuard`). */
export function parseKubectlName(text: string): KubectlNameResult {
  const diags = new Diagnostics();
  const value = emptyObjects();
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text).trim();
    if (t === '') continue;
    const m = NAME_LINE.exec(t);
    if (!m) {
      diags.warn(
        'kubectl-name-bad-line',
        l.n,
        1,
        `not a resource/name line: "${field(t, diags, l.n, 1).slice(0, 80)}"`,
      );
      continue;
    }
    value.others.push({ kind: m[1]!, namespace: null, name: m[2]! });
  }
  if (value.others.length === 0) diags.error('kubectl-name-empty', 1, 1, 'no resource/name lines');
  return { kind: 'kubectl-name', value, diagnostics: diags.done() };
}

/** `-o jsonpath=…` output: whitespace-separated words (the seed pipes it through `tr` to get one a line). */
export function parseKubectlJsonpath(text: string): KubectlJsonpathResult {
  const diags = new Diagnostics();
  const words: string[] = [];
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text);
    let col = 0;
    for (const w of t.split(/[ \t]+/)) {
      col = t.indexOf(w, col);
      if (w !== '') words.push(field(w, diags, l.n, col + 1));
      col += w.length;
    }
  }
  return { kind: 'kubectl-jsonpath', value: { words }, diagnostics: diags.done() };
}

// `deployment.apps "kuard" created` (kubectl ≤1.11), `service/kuard exposed`, `pod/x created (dry run)`.
const ACTION_OLD = /^([a-z][a-z0-9.-]*) "([^"]+)" ([a-z]+(?: [a-z]+)?)( \((?:server )?dry run\))?$/;
const ACTION_NEW = /^([a-z][a-z0-9.-]*)\/([^\s]+) ([a-z]+(?: [a-z]+)?)( \((?:server )?dry run\))?$/;

export function parseKubectlAction(text: string): KubectlActionResult {
  const diags = new Diagnostics();
  const value: KubectlAction[] = [];
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text).trim();
    if (t === '') continue;
    const m = ACTION_OLD.exec(t) ?? ACTION_NEW.exec(t);
    if (!m) {
      diags.warn('kubectl-action-bad-line', l.n, 1, 'not a kubectl result line (KIND/NAME ACTION)');
      continue;
    }
    value.push({ kind: m[1]!, name: field(m[2]!, diags, l.n, 1), action: m[3]!, dryRun: m[4] !== undefined });
  }
  if (value.length === 0) diags.error('kubectl-action-empty', 1, 1, 'no kubectl result line');
  return { kind: 'kubectl-action', value, diagnostics: diags.done() };
}
