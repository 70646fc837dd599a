import type { Assertion } from './assertions.js';
import type { Block, Check, InstanceSelector, RoleSpec } from './model.js';
import { basicParserKinds } from './parseOutput.js';
import { findVariables, parsePath } from './variables.js';

/**
 * What a block provides to the state and what a check reads from it, by name (the first segment of a path), so
 * a failed block skips exactly the checks that depend on it (docs/labs.md, "When a block fails").
 */

/** The collections the analysed snapshot puts in the state (src/labs/analyzedSnapshot.ts builds exactly these). */
export const analysedNames = ['pods', 'nodes', 'services', 'endpoints', 'serviceViews'] as const;

/** Stands for the analysis' findings, which `no-findings:` reads. */
export const findingsName = 'findings';

/**
 * Names a block's capture would put in the state: its `as=` name (or id) when it parses its output, and, when
 * the parse kind is one src/analyze reads (anything but json, jsonl, lines, text), the analysed collections and
 * the findings, which that capture would have fed.
 */
export function namesProvidedBy(b: Block): string[] {
  if (!b.parse) return [];
  const own = b.as ?? b.id;
  return (basicParserKinds as readonly string[]).includes(b.parse)
    ? [own]
    : [own, ...analysedNames, findingsName];
}

function rootOf(path: readonly (string | number)[]): string[] {
  return typeof path[0] === 'string' ? [path[0]] : [];
}

function rootsOfText(text: string): string[] {
  return findVariables(text).flatMap((v) => {
    const p = parsePath(v.path);
    return p.ok ? rootOf(p.segments) : [];
  });
}

/** Names an assertion reads: its collection or path, and the variables in it; `no-findings` reads the findings. */
function namesReadByAssertion(a: Assertion): string[] {
  const own = a.type === 'no-findings' ? [findingsName] : a.type === 'that' ? rootOf(a.path) : rootOf(a.coll);
  return [...own, ...rootsOfText(a.source)];
}

/**
 * Names a check reads from the state: variables in its command and every assertion's paths and variables. Its
 * message is left out: a message that cannot be filled in is shown as written.
 */
export function namesReadBy(c: Check): Set<string> {
  const names = new Set<string>();
  if (c.run) for (const n of rootsOfText(c.run.command)) names.add(n);
  for (const a of c.assert) for (const n of namesReadByAssertion(a)) names.add(n);
  return names;
}

/**
 * Why a check must be skipped because blocks of its step failed or did not run: the first name it reads that
 * one of those blocks should have captured. Undefined when the check needs nothing from them.
 */
export function missingFor(
  c: Check,
  lost: readonly { readonly block: Block; readonly why: string }[],
): string | undefined {
  const reads = namesReadBy(c);
  for (const { block, why } of lost) {
    const provided = namesProvidedBy(block);
    const own = provided[0];
    if (own !== undefined && reads.has(own))
      return `skipped: it reads "${own}", which block ${block.index} (${block.id}) should have captured, but that block ${why}`;
    const fed = provided.slice(1).find((n) => reads.has(n));
    if (fed !== undefined)
      return `skipped: it reads ${fed === findingsName ? "the analysis' findings" : `"${fed}"`}, which block ${block.index} (${block.id}, parse=${block.parse ?? ''}) would have fed, but that block ${why}`;
  }
  return undefined;
}

/**
 * Is a command's capture stored per instance (`{instance: value}`)? Only when it runs on every instance of a
 * `many` role (`on=all`, the default); a command that runs on exactly one instance (`on=first`, `on=NAME`, or a
 * role with one machine) stores its value directly. This depends on the lab alone, never on how many machines
 * the inventory binds, so a lab's paths mean the same everywhere (docs/labs.md, "The state and variables").
 */
export function capturedPerInstance(
  roles: readonly RoleSpec[],
  run: { readonly role: string; readonly on: InstanceSelector },
): boolean {
  return (roles.find((r) => r.id === run.role)?.many ?? false) && 'all' in run.on;
}
