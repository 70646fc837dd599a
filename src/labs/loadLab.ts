import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { isSeq, parseDocument, type Document } from 'yaml';
import { parseAssertion, type Assertion } from './assertions.js';
import {
  formatProblem,
  type Block,
  type BlockKind,
  type Check,
  type CheckRun,
  type InstanceSelector,
  type Lab,
  type LabProblem,
  type RoleSpec,
  type Step,
} from './model.js';
import {
  blockAttributeNames,
  checkSchema,
  didYouMean,
  frontMatterSchema,
  parseDuration,
  zodProblems,
} from './schema.js';
import { labParseKinds } from './parseOutput.js';
import { analysedNames, capturedPerInstance, findingsName } from './dependencies.js';
import { findVariables, formatPath, parsePath, type PathSegment } from './variables.js';

export const labFileName = 'lab.md';
/** Lab files are untrusted input: refuse absurd sizes before parsing. */
export const maxLabBytes = 1_000_000;

export interface LabLoad {
  /** Present when there are no errors (warnings may remain). */
  readonly lab?: Lab;
  readonly errors: readonly LabProblem[];
  readonly warnings: readonly LabProblem[];
}

interface RawBlock {
  lang: string;
  attrs: Map<string, string>;
  flags: Set<string>;
  content: string;
  line: number;
  attrError?: string;
}

interface RawStep {
  title: string;
  explicitId?: string;
  line: number;
  startLine: number;
  endLine: number;
  blocks: RawBlock[];
}

/** `sh {role=master parse=kubectl-table id=get-pods}` → language, attributes, flags. */
export function parseInfoString(info: string): Omit<RawBlock, 'content' | 'line'> {
  if (info.includes('{') && !info.includes('}'))
    return {
      lang: info.split('{')[0]?.trim() ?? '',
      attrs: new Map(),
      flags: new Set(),
      attrError: 'the "{" of the attributes is not closed with "}"',
    };
  const m = /^\s*([^\s{]*)\s*(?:\{(.*)\})?\s*$/.exec(info);
  if (!m)
    return { lang: info.trim(), attrs: new Map(), flags: new Set(), attrError: 'cannot read the attributes' };
  const lang = m[1] ?? '';
  const attrs = new Map<string, string>();
  const flags = new Set<string>();
  const inner = m[2];
  if (inner === undefined) {
    if (info.includes('{'))
      return { lang, attrs, flags, attrError: 'the "{" of the attributes is not closed with "}"' };
    return { lang, attrs, flags };
  }
  const re = /\s*([A-Za-z][\w-]*)(?:=(?:"([^"]*)"|([^\s"]+)))?\s*/y;
  let i = 0;
  while (i < inner.length) {
    re.lastIndex = i;
    const a = re.exec(inner);
    if (!a || a[0].length === 0) {
      return {
        lang,
        attrs,
        flags,
        attrError: `cannot read the attributes from "${inner.slice(i)}"; write key=value pairs separated by spaces, quoting values with spaces`,
      };
    }
    const key = a[1] as string;
    const value = a[2] ?? a[3];
    if (value === undefined) flags.add(key);
    else attrs.set(key, value);
    i = re.lastIndex;
  }
  return { lang, attrs, flags };
}

export function slugify(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/`/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'step'
  );
}

function splitFrontMatter(text: string): { yaml?: string; body: string; bodyLine: number } {
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { body: text, bodyLine: 1 };
  const yamlText = m[1] ?? '';
  return { yaml: yamlText, body: text.slice(m[0].length), bodyLine: m[0].split('\n').length };
}

function parseYaml(
  text: string,
  where: string,
  line: number,
  problems: LabProblem[],
): { ok: true; value: unknown; doc: Document } | { ok: false } {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const l = e.linePos?.[0]?.line;
      problems.push({
        path: where,
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
        advice: 'check indentation and quoting',
        line: l ? line + l : line,
      });
    }
    return { ok: false };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 50 }) as unknown, doc };
  } catch (e) {
    problems.push({
      path: where,
      message: `cannot read the YAML: ${(e as Error).message}`,
      advice: 'use fewer aliases (&anchor / *alias)',
      line,
    });
    return { ok: false };
  }
}

const md = new MarkdownIt({ html: false });

/**
 * Parses and validates a lab's Markdown. Pure: no file access, so the UI and tests can validate text directly.
 * Every problem is reported, each with a path ("step "Endpoints": block 2") and advice.
 */
export function parseLab(text: string): LabLoad {
  const errors: LabProblem[] = [];
  const warnings: LabProblem[] = [];
  if (text.length > maxLabBytes) {
    return {
      errors: [
        {
          path: labFileName,
          message: `is ${text.length} bytes; the limit is ${maxLabBytes}`,
          advice: 'split the lab',
        },
      ],
      warnings,
    };
  }
  const { yaml, body, bodyLine } = splitFrontMatter(text);
  const offset = bodyLine - 1;

  // Front matter.
  let front: ReturnType<typeof frontMatterSchema.parse> | undefined;
  if (yaml === undefined) {
    errors.push({
      path: 'front matter',
      message: 'missing',
      advice:
        'start lab.md with a "---" line, the YAML fields (id, title, summary, roles, estimatedTime), and "---"',
      line: 1,
    });
  } else {
    const y = parseYaml(yaml, 'front matter', 1, errors);
    if (y.ok) {
      const r = frontMatterSchema.safeParse(y.value ?? {});
      if (r.success) front = r.data;
      else
        for (const p of zodProblems(r.error, 'front matter', {
          '': Object.keys(frontMatterSchema.shape),
          ...Object.fromEntries(
            Object.keys((y.value as { roles?: object } | null)?.roles ?? {}).map((k) => [
              `roles.${k}`,
              ['description', 'many', 'tools'],
            ]),
          ),
        }))
          errors.push({ ...p, line: 1 });
    }
  }

  // Steps: one per "##" heading; text before the first is the intro.
  const tokens = md.parse(body, {});
  const lines = body.split('\n');
  const raw: RawStep[] = [];
  let introEnd = lines.length;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t) continue;
    if (t.type === 'heading_open' && t.tag === 'h2' && t.map) {
      const inline = tokens[i + 1]?.content ?? '';
      const m = /^(.*?)\s*\{#([^}]*)\}\s*$/.exec(inline);
      const title = (m ? m[1] : inline)?.trim() ?? '';
      if (raw.length === 0) introEnd = t.map[0];
      const prev = raw[raw.length - 1];
      if (prev) prev.endLine = t.map[0];
      raw.push({
        title,
        ...(m ? { explicitId: m[2]?.trim() ?? '' } : {}),
        line: t.map[0] + 1 + offset,
        startLine: t.map[1],
        endLine: lines.length,
        blocks: [],
      });
    } else if (t.type === 'fence' && t.map) {
      const info = parseInfoString(t.info);
      const step = raw[raw.length - 1];
      const runnable = info.attrs.size > 0 || info.flags.size > 0 || info.attrError !== undefined;
      if (!runnable) continue;
      const block: RawBlock = { ...info, content: t.content, line: t.map[0] + 1 + offset };
      if (!step) {
        errors.push({
          path: 'intro',
          message: 'a runnable block appears before the first step',
          advice: 'put it under a "## Step title" heading',
          line: block.line,
        });
        continue;
      }
      step.blocks.push(block);
    }
  }
  if (raw.length === 0)
    errors.push({
      path: labFileName,
      message: 'has no steps',
      advice: 'start each step with a level-2 heading: "## Step title"',
      line: bodyLine,
    });

  const roles: RoleSpec[] = front
    ? Object.entries(front.roles).map(([id, r]) => ({
        id,
        description: r.description,
        many: r.many,
        tools: r.tools,
      }))
    : [];
  const roleIds = roles.map((r) => r.id);
  const roleList = `roles: ${roleIds.join(', ') || '(none declared)'}`;

  const steps: Step[] = [];
  const stepIds = new Map<string, string>();
  const blockIds = new Map<string, string>();
  const checkIds = new Map<string, string>();
  const captureNames = new Map<string, number>(); // as= name → first step index

  const checkRole = (where: string, role: string | undefined, line: number): boolean => {
    if (role === undefined) {
      errors.push({ path: where, message: 'no role', advice: `add role=… (${roleList})`, line });
      return false;
    }
    if (front && !roleIds.includes(role)) {
      const guess = didYouMean(role, roleIds);
      errors.push({
        path: where,
        message: `role "${role}" is not declared`,
        advice: `${guess ? `did you mean "${guess}"? ` : ''}${roleList}`,
        line,
      });
      return false;
    }
    return true;
  };
  const selector = (where: string, role: string, on: string | undefined, line: number): InstanceSelector => {
    const spec = roles.find((r) => r.id === role);
    if (on === undefined || on === 'all') return { all: true };
    if (spec && !spec.many)
      errors.push({
        path: where,
        message: `on=${on} applies only to a role with many instances; "${role}" has one`,
        advice: `remove on=, or declare "${role}" with many: true`,
        line,
      });
    return { name: on };
  };
  const checkParseKind = (where: string, kind: string, line: number): void => {
    if (labParseKinds.includes(kind)) return;
    const guess = didYouMean(kind, labParseKinds);
    errors.push({
      path: where,
      message: `parse kind "${kind}" is unknown`,
      advice: `${guess ? `did you mean "${guess}"? ` : ''}kinds: ${labParseKinds.join(', ')}`,
      line,
    });
  };
  const checkVariables = (where: string, text: string, line: number): void => {
    for (const v of findVariables(text)) {
      const p = parsePath(v.path);
      if (!p.ok)
        errors.push({
          path: where,
          message: `variable ${v.raw} is not a valid path: ${p.error}`,
          advice: 'write e.g. {{pods[0].name}}',
          line,
        });
    }
  };

  raw.forEach((rs, stepIndex) => {
    const stepId = rs.explicitId ?? slugify(rs.title);
    const where = `step "${rs.title}"`;
    if (!rs.title)
      errors.push({
        path: `step ${stepIndex + 1}`,
        message: 'has an empty heading',
        advice: 'give the step a title',
        line: rs.line,
      });
    if (rs.explicitId !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(rs.explicitId))
      errors.push({
        path: where,
        message: `step id "${rs.explicitId}" is not kebab-case`,
        advice: 'use lowercase letters, digits and "-"',
        line: rs.line,
      });
    const dup = stepIds.get(stepId);
    if (dup !== undefined)
      errors.push({
        path: where,
        message: `step id "${stepId}" is used twice (also by step "${dup}")`,
        advice: 'rename one heading or give it an id: "## Title {#other-id}"',
        line: rs.line,
      });
    stepIds.set(stepId, rs.title);

    const blocks: Block[] = [];
    const checks: Check[] = [];
    let runIndex = 0;
    for (const rb of rs.blocks) {
      if (rb.attrError) {
        runIndex++;
        errors.push({ path: `${where}: block ${runIndex}`, message: rb.attrError, line: rb.line });
        continue;
      }
      if (rb.flags.has('checks') && rb.flags.size === 1 && rb.attrs.size === 0) {
        const cwhere = `${where}: checks`;
        const y = parseYaml(rb.content, cwhere, rb.line, errors);
        if (!y.ok) continue;
        if (!Array.isArray(y.value)) {
          errors.push({
            path: cwhere,
            message: 'must be a YAML list of checks',
            advice: 'start each check with "- id: …"',
            line: rb.line,
          });
          continue;
        }
        const seq = isSeq(y.doc.contents) ? y.doc.contents : undefined;
        y.value.forEach((item: unknown, ci) => {
          // The line of this check in lab.md: the fence's line, plus the lines before the item in the block.
          const offset =
            seq?.items[ci] && 'range' in (seq.items[ci] as object)
              ? (seq.items[ci] as { range?: [number] }).range?.[0]
              : undefined;
          const itemLine =
            offset === undefined ? rb.line : rb.line + 1 + rb.content.slice(0, offset).split('\n').length - 1;
          const label = (item as { id?: unknown } | null)?.id;
          const chWhere = `${where}: check ${typeof label === 'string' ? `"${label}"` : ci + 1}`;
          const r = checkSchema.safeParse(item);
          if (!r.success) {
            for (const p of zodProblems(r.error, chWhere, {
              '': Object.keys(checkSchema.shape),
              run: ['role', 'on', 'command', 'parse', 'as', 'expect'],
            }))
              errors.push({ ...p, line: itemLine });
            return;
          }
          const c = r.data;
          let run: CheckRun | undefined;
          if (c.run?.parse !== undefined) checkParseKind(`${chWhere}: run`, c.run.parse, itemLine);
          if (c.run && checkRole(`${chWhere}: run`, c.run.role, itemLine)) {
            run = {
              role: c.run.role,
              on: selector(`${chWhere}: run`, c.run.role, c.run.on, itemLine),
              command: c.run.command,
              ...(c.run.parse ? { parse: c.run.parse } : {}),
              ...(c.run.as ? { as: c.run.as } : {}),
              expectExit: c.run.expect,
            };
            checkVariables(`${chWhere}: run`, c.run.command, itemLine);
            if (c.run.as && !captureNames.has(c.run.as)) captureNames.set(c.run.as, stepIndex);
          }
          if (!c.run && c.assert.length === 0)
            errors.push({
              path: chWhere,
              message: 'checks nothing',
              advice: 'add run: (a command and its exit code) and/or assert: (a list)',
              line: itemLine,
            });
          const assertions: Assertion[] = [];
          c.assert.forEach((entry, ai) => {
            const keys = Object.keys(entry);
            if (keys.length !== 1) {
              errors.push({
                path: `${chWhere}: assert[${ai}]`,
                message: `has ${keys.length} keys`,
                advice: 'one assertion per list item, e.g. "- count: pods == 10"',
                line: itemLine,
              });
              return;
            }
            const key = keys[0] as string;
            const a = parseAssertion(key, entry[key]);
            if (!a.ok) {
              const guess = a.error.startsWith('unknown assertion')
                ? didYouMean(key, ['count', 'every', 'some', 'none', 'distinct', 'that', 'no-findings'])
                : undefined;
              errors.push({
                path: `${chWhere}: assert[${ai}]`,
                message: a.error,
                advice: guess ? `did you mean "${guess}"? ${a.advice}` : a.advice,
                line: itemLine,
              });
            } else {
              assertions.push(a.assertion);
              checkVariables(`${chWhere}: assert[${ai}]`, a.assertion.source, itemLine);
            }
          });
          if (c.message) checkVariables(`${chWhere}: message`, c.message, itemLine);
          checks.push({
            id: c.id,
            step: stepId,
            title: c.title ?? c.id,
            ...(run ? { run } : {}),
            assert: assertions,
            retries: c.retries,
            delayMs: parseDuration(c.delay) ?? 2000,
            needs: c.needs,
            ...(c.hint ? { hint: c.hint } : {}),
            ...(c.message ? { message: c.message } : {}),
            line: itemLine,
          });
        });
        continue;
      }
      runIndex++;
      const bwhere = `${where}: block ${runIndex}`;
      for (const f of rb.flags)
        errors.push({
          path: bwhere,
          message: `attribute "${f}" needs a value`,
          advice: `write ${f}=…; the only bare flag is {checks}`,
          line: rb.line,
        });
      for (const k of rb.attrs.keys())
        if (!(blockAttributeNames as readonly string[]).includes(k)) {
          const guess = didYouMean(k, blockAttributeNames);
          errors.push({
            path: bwhere,
            message: `unknown attribute "${k}"`,
            advice: `${guess ? `did you mean "${guess}"? ` : ''}allowed: ${blockAttributeNames.join(', ')}`,
            line: rb.line,
          });
        }
      const role = rb.attrs.get('role');
      const roleOk = checkRole(bwhere, role, rb.line);
      const kindText = rb.attrs.get('kind') ?? 'solve';
      if (!['setup', 'solve', 'check'].includes(kindText))
        errors.push({
          path: bwhere,
          message: `kind "${kindText}" is unknown`,
          advice: 'use setup, solve or check',
          line: rb.line,
        });
      const kind = kindText as BlockKind;
      const id = rb.attrs.get('id') ?? `${stepId}-${runIndex}`;
      if (!/^[a-z0-9][a-z0-9-]*$/.test(id))
        errors.push({
          path: bwhere,
          message: `id "${id}" is not kebab-case`,
          advice: 'use lowercase letters, digits and "-"',
          line: rb.line,
        });
      const prevBlock = blockIds.get(id);
      if (prevBlock !== undefined)
        errors.push({
          path: bwhere,
          message: `id "${id}" is already used by ${prevBlock}`,
          advice: 'ids are unique in a lab',
          line: rb.line,
        });
      blockIds.set(id, bwhere);
      const expectText = rb.attrs.get('expect') ?? '0';
      const expectExit = /^\d{1,3}$/.test(expectText) ? Number(expectText) : NaN;
      if (Number.isNaN(expectExit) || expectExit > 255)
        errors.push({
          path: bwhere,
          message: `expect=${expectText} is not an exit code`,
          advice: 'use a number 0-255',
          line: rb.line,
        });
      const timeoutText = rb.attrs.get('timeout') ?? '5m';
      const timeoutMs = parseDuration(timeoutText);
      if (timeoutMs === undefined)
        errors.push({
          path: bwhere,
          message: `timeout=${timeoutText} is not a duration`,
          advice: 'write e.g. 30s or 2m',
          line: rb.line,
        });
      const command = rb.content.replace(/\n$/, '');
      if (!command.trim())
        errors.push({
          path: bwhere,
          message: 'the command is empty',
          advice: 'write the command inside the fence',
          line: rb.line,
        });
      checkVariables(bwhere, command, rb.line);
      const as = rb.attrs.get('as');
      if (as !== undefined) {
        if (!/^[A-Za-z_][\w-]*$/.test(as))
          errors.push({
            path: bwhere,
            message: `as=${as} is not a simple name`,
            advice: 'use letters, digits, "_" and "-"',
            line: rb.line,
          });
        if (!captureNames.has(as)) captureNames.set(as, stepIndex);
      }
      if (!roleOk || role === undefined) continue;
      const on = selector(bwhere, role, rb.attrs.get('on'), rb.line);
      const parse = rb.attrs.get('parse');
      if (parse !== undefined) checkParseKind(bwhere, parse, rb.line);
      const panel = rb.attrs.get('panel');
      const block: Block = {
        id,
        index: runIndex,
        role,
        on,
        kind,
        lang: rb.lang,
        command,
        ...(parse ? { parse } : {}),
        ...(panel ? { panel } : {}),
        ...(as ? { as } : {}),
        expectExit: Number.isNaN(expectExit) ? 0 : expectExit,
        timeoutMs: timeoutMs ?? 300_000,
        line: rb.line,
      };
      blocks.push(block);
      if (kind === 'check')
        checks.push({
          id,
          step: stepId,
          title: `${rb.lang || 'command'} block ${runIndex} exits ${block.expectExit}`,
          run: {
            role,
            on,
            command,
            ...(parse ? { parse } : {}),
            ...(as ? { as } : {}),
            expectExit: block.expectExit,
          },
          assert: [],
          retries: 0,
          delayMs: 0,
          needs: [],
          line: rb.line,
        });
    }
    for (const c of checks) {
      const prev = checkIds.get(c.id);
      if (prev !== undefined)
        errors.push({
          path: `${where}: check "${c.id}"`,
          message: `check id "${c.id}" is already used in ${prev}`,
          advice: 'check ids are unique in a lab',
          line: c.line,
        });
      checkIds.set(c.id, where);
    }
    if (checks.length === 0 && blocks.length > 0)
      warnings.push({
        path: where,
        message: 'has commands but no checks',
        advice: 'add a ```yaml {checks} block so learners know when the step is done',
        line: rs.line,
      });
    steps.push({
      id: stepId,
      title: rs.title,
      index: stepIndex,
      body: lines.slice(rs.startLine, rs.endLine).join('\n').trim(),
      blocks,
      checks,
      line: rs.line,
    });
  });

  // needs: every id exists, no cycles.
  const allChecks = steps.flatMap((s) => s.checks);
  const byId = new Map(allChecks.map((c) => [c.id, c]));
  for (const c of allChecks) {
    const s = steps.find((x) => x.id === c.step);
    for (const n of c.needs) {
      if (!byId.has(n)) {
        const guess = didYouMean(n, [...byId.keys()]);
        errors.push({
          path: `step "${s?.title}": check "${c.id}": needs`,
          message: `"${n}" is not a check in this lab`,
          advice: guess ? `did you mean "${guess}"?` : `checks: ${[...byId.keys()].join(', ')}`,
          line: c.line,
        });
      }
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, trail: string[]): void => {
    const st = state.get(id);
    if (st === 'done') return;
    if (st === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(id)), id];
      const key = [...cycle].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        const c = byId.get(id);
        errors.push({
          path: `check "${id}": needs`,
          message: `forms a cycle: ${cycle.join(' → ')}`,
          advice: 'a check cannot (indirectly) need itself; remove one of these needs',
          ...(c ? { line: c.line } : {}),
        });
      }
      return;
    }
    state.set(id, 'visiting');
    for (const n of byId.get(id)?.needs ?? []) if (byId.has(n)) visit(n, [...trail, id]);
    state.set(id, 'done');
  };
  for (const c of allChecks) visit(c.id, []);

  // Variables: the root must be something this lab captures or a snapshot collection.
  const snapshotNames = [...analysedNames, findingsName];
  const known = new Set<string>([...snapshotNames, ...captureNames.keys(), ...blockIds.keys()]);
  for (const s of steps) {
    const texts: [string, string, number][] = [
      ...s.blocks.map((b): [string, string, number] => [
        `step "${s.title}": block ${b.index}`,
        b.command,
        b.line,
      ]),
      ...s.checks.flatMap((c): [string, string, number][] => [
        ...(c.run
          ? [[`step "${s.title}": check "${c.id}"`, c.run.command, c.line] as [string, string, number]]
          : []),
        ...c.assert.map((a): [string, string, number] => [
          `step "${s.title}": check "${c.id}"`,
          a.source,
          c.line,
        ]),
        ...(c.message
          ? [[`step "${s.title}": check "${c.id}": message`, c.message, c.line] as [string, string, number]]
          : []),
      ]),
    ];
    for (const [where, text, line] of texts)
      for (const v of findVariables(text)) {
        const p = parsePath(v.path);
        if (!p.ok) continue;
        const root = String(p.segments[0]);
        if (!known.has(root)) {
          const guess = didYouMean(root, [...known]);
          errors.push({
            path: where,
            message: `variable ${v.raw}: nothing in this lab provides "${root}"`,
            advice: `${guess ? `did you mean "${guess}"? ` : ''}capture it with as=${root} on an earlier block, or use a snapshot collection (${snapshotNames.join(', ')})`,
            line,
          });
        } else if ((captureNames.get(root) ?? -1) > s.index) {
          warnings.push({
            path: where,
            message: `variable ${v.raw} is captured only by a later step`,
            advice: 'the learner must run that step first; say so in the text, or capture it earlier',
            line,
          });
        }
      }
  }

  // Paths into a capture kept per instance ({instance: value}) must go through [*] (or a collection assertion):
  // its keys are the inventory's instance names, which the lab cannot know.
  const shapes = new Map<string, { perInstance: boolean; what: string }[]>();
  const noteShape = (name: string, perInstance: boolean, what: string): void => {
    shapes.set(name, [...(shapes.get(name) ?? []), { perInstance, what }]);
  };
  for (const s of steps) {
    for (const b of s.blocks)
      if (b.parse)
        noteShape(
          b.as ?? b.id,
          capturedPerInstance(roles, b),
          `block ${b.index} (${b.id}) of step "${s.title}"`,
        );
    for (const c of s.checks)
      if (c.run?.parse && !s.blocks.some((b) => b.id === c.id))
        noteShape(c.run.as ?? c.id, capturedPerInstance(roles, c.run), `check "${c.id}"`);
  }
  const checkShape = (where: string, shown: string, segments: readonly PathSegment[], line: number): void => {
    const root = segments[0];
    const next = segments[1];
    if (typeof root !== 'string' || next === undefined || next === '*') return;
    const s = shapes.get(root);
    if (!s || !s.every((x) => x.perInstance)) return;
    const role = steps.flatMap((st) => st.blocks).find((b) => (b.as ?? b.id) === root)?.role;
    warnings.push({
      path: where,
      message:
        typeof next === 'number'
          ? `${shown} cannot resolve: "${root}" is captured on every instance of ${role ? `"${role}"` : 'a many role'} (${s[0]?.what}), so it is a map of instance name → value, not a list`
          : `${shown} resolves only if the inventory names an instance "${next}": "${root}" is captured on every instance of ${role ? `"${role}"` : 'a many role'} (${s[0]?.what}), so its keys are instance names`,
      advice: `capture one value with on=first (or on=NAME), write ${formatPath([root, '*', ...segments.slice(1 + (typeof next === 'number' ? 1 : 0))])} for every instance, or use a collection assertion (every: ${root} have …)`,
      line,
    });
  };
  for (const s of steps)
    for (const c of s.checks) {
      const texts = [
        ...(c.run ? [c.run.command] : []),
        ...c.assert.map((a) => a.source),
        ...(c.message ? [c.message] : []),
      ];
      for (const a of c.assert) {
        const p = a.type === 'that' ? a.path : a.type === 'no-findings' ? undefined : a.coll;
        if (p) checkShape(`step "${s.title}": check "${c.id}"`, `path ${formatPath(p)}`, p, c.line);
      }
      for (const t of texts)
        for (const v of findVariables(t)) {
          const p = parsePath(v.path);
          if (p.ok) checkShape(`step "${s.title}": check "${c.id}"`, `variable ${v.raw}`, p.segments, c.line);
        }
    }
  for (const s of steps)
    for (const b of s.blocks)
      for (const v of findVariables(b.command)) {
        const p = parsePath(v.path);
        if (p.ok) checkShape(`step "${s.title}": block ${b.index}`, `variable ${v.raw}`, p.segments, b.line);
      }

  if (errors.length > 0 || !front) return { errors, warnings };
  const lab: Lab = {
    id: front.id,
    title: front.title,
    summary: front.summary,
    roles,
    prerequisites: front.prerequisites,
    estimatedMinutes: Math.round((parseDuration(front.estimatedTime) ?? 0) / 60_000),
    credits: front.credits,
    intro: lines.slice(0, introEnd).join('\n').trim(),
    steps,
  };
  return { lab: deepFreeze(lab), errors, warnings };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Reads `DIR/lab.md` and validates it. File errors become problems too; this never throws. */
export function loadLabDir(dir: string): LabLoad & { readonly dir: string } {
  const file = join(dir, labFileName);
  try {
    const st = lstatSync(file);
    if (!st.isFile())
      return {
        dir,
        errors: [
          {
            path: file,
            message: 'is not a regular file',
            advice: 'a lab folder holds a lab.md file (not a link)',
          },
        ],
        warnings: [],
      };
    if (st.size > maxLabBytes)
      return {
        dir,
        errors: [
          {
            path: file,
            message: `is ${st.size} bytes; the limit is ${maxLabBytes}`,
            advice: 'split the lab',
          },
        ],
        warnings: [],
      };
    return { dir, ...parseLab(readFileSync(file, 'utf8')) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      dir,
      errors: [
        code === 'ENOENT'
          ? {
              path: dir,
              message: `has no ${labFileName}`,
              advice: 'a lab is a folder with a lab.md file (docs/labs.md)',
            }
          : { path: file, message: `cannot be read: ${(e as Error).message}` },
      ],
      warnings: [],
    };
  }
}

export { formatProblem };
