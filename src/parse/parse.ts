/**
 * The one entry point: parse text as a given kind, or as what `detect` finds. Unclaimed text comes back as
 * `unparsed` with the text (neutralised) and an info diagnostic, never as an error.
 */
import type { ParseResult } from '../model/diagnostic.js';
import { parseCniConfig, parseCniError, parseFileList } from './cni.js';
import type { CommandInfo } from './command.js';
import { detect, type Detection } from './detect.js';
import { parseIfconfig, parseIpAddr, parseIpRoute } from './addresses.js';
import { parseIptablesList } from './iptables-list.js';
import { parseIptablesSave } from './iptables-save.js';
import type { ParseKind, ResultKind } from './kinds.js';
import { parseHostname, parseKuardEnv } from './kuard.js';
import { parseKubectlAction, parseKubectlJsonpath, parseKubectlName } from './kubectl-misc.js';
import { parseKubeconfig, parseKubectlObject } from './kubectl-object.js';
import { parseKubectlTable } from './kubectl-table.js';
import { parseTranscript } from './transcript.js';
import { FIELD_LIMIT, neutralise, neutraliseText } from './text.js';

export interface Unparsed {
  text: string;
  lines: number;
}

export interface ParseInput {
  text: string;
  command?: string;
  as?: ParseKind;
  /** Set for the outputs inside a transcript: they are never read as a transcript again. */
  nested?: boolean;
}

export type AnyParseResult = ParseResult<ResultKind> & { detection?: Detection };

/** Cap on the text kept in an `unparsed` result. */
export const UNPARSED_LIMIT = 16 * FIELD_LIMIT;

export function unparsed(text: string, reason: string): ParseResult<'unparsed', Unparsed> {
  const lines = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  const cut = text.length > UNPARSED_LIMIT;
  const diagnostics = [{ code: 'unparsed', severity: 'info' as const, line: 1, column: 1, message: reason }];
  if (cut)
    diagnostics.push({
      code: 'field-too-long',
      severity: 'info',
      line: 1,
      column: 1,
      message: `unparsed text of ${text.length} characters was cut to ${UNPARSED_LIMIT}`,
    });
  return {
    kind: 'unparsed',
    value: { text: neutraliseText(cut ? text.slice(0, UNPARSED_LIMIT) : text), lines },
    diagnostics: text.trim() === '' ? [] : diagnostics,
  };
}

export function parseKind(kind: ParseKind, text: string, cmd?: CommandInfo): ParseResult<ResultKind> {
  switch (kind) {
    case 'kubectl-table':
      return parseKubectlTable(text, {
        ...(cmd?.resource ? { resource: cmd.resource } : {}),
        ...(cmd?.wide ? { wide: true } : {}),
        ...(cmd?.allNamespaces ? { allNamespaces: true } : {}),
        ...(cmd?.showLabels ? { showLabels: true } : {}),
        ...(cmd?.noHeaders ? { noHeaders: true } : {}),
        ...(cmd?.namespace ? { namespace: cmd.namespace } : {}),
      });
    case 'kubectl-object':
      return parseKubectlObject(text);
    case 'kubectl-name':
      return parseKubectlName(text);
    case 'kubectl-jsonpath':
      return parseKubectlJsonpath(text);
    case 'kubectl-action':
      return parseKubectlAction(text);
    case 'kubeconfig':
      return parseKubeconfig(text);
    case 'iptables-save':
      return parseIptablesSave(text, cmd?.table ? { table: cmd.table } : {});
    case 'iptables-list':
      return parseIptablesList(text, cmd?.table ? { table: cmd.table } : {});
    case 'ip-addr':
      return parseIpAddr(text);
    case 'ip-route':
      return parseIpRoute(text);
    case 'ifconfig':
      return parseIfconfig(text);
    case 'cni-config':
      return parseCniConfig(text);
    case 'cni-error':
      return parseCniError(text);
    case 'file-list':
      return parseFileList(text);
    case 'kuard-env':
      return parseKuardEnv(text);
    case 'hostname':
      return parseHostname(text);
    case 'transcript':
      return parseTranscript(text, (input) => parse({ ...input, nested: true }));
  }
}

/** Parse `text`: as `as` when given, else as detected from the command line and the text. Never throws. */
export function parse(input: ParseInput): AnyParseResult {
  try {
    if (input.as !== undefined) {
      const cmd = input.command ? detect({ command: input.command }).command : undefined;
      return parseKind(input.as, input.text, cmd);
    }
    const d = detect(input);
    if (d.kind === 'transcript' && input.nested)
      return { ...unparsed(input.text, 'prompt-like lines inside a command output'), detection: d };
    if (d.kind === 'unparsed') return { ...unparsed(input.text, d.reason), detection: d };
    return { ...parseKind(d.kind, input.text, d.command), detection: d };
  } catch (err) {
    // A parser bug must not take the user's session down: report it as a diagnostic.
    return {
      kind: input.as ?? 'unparsed',
      value: null,
      diagnostics: [
        {
          code: 'parser-crashed',
          severity: 'error',
          line: 1,
          column: 1,
          message: `internal parser error: ${neutralise(err instanceof Error ? err.message : String(err))}`,
        },
      ],
    };
  }
}
