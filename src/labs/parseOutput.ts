import type { Diagnostic, ParseResult } from '../model/diagnostic.js';
import { parseKinds, type ParseKind } from '../parse/kinds.js';
import { parse } from '../parse/parse.js';

/**
 * The ParseFn labs use: `json`, `jsonl` (one JSON value per line, e.g. repeated `curl …/env/api`), `lines` and
 * `text` are read here; every other kind (kubectl tables and objects, iptables-save, ifconfig, CNI, kuard, …)
 * and `auto` go to src/parse. Total: odd input gives diagnostics, never an exception.
 */
export const basicParserKinds = ['json', 'jsonl', 'lines', 'text'] as const;

/** Every value `parse=` may take. */
export const labParseKinds: readonly string[] = ['auto', ...basicParserKinds, ...parseKinds];

function diag(
  code: string,
  message: string,
  line = 1,
  severity: Diagnostic['severity'] = 'error',
): Diagnostic {
  return { code, severity, line, column: 1, message };
}

export function parseBasic(kind: string, text: string): ParseResult | undefined {
  switch (kind) {
    case 'json':
      try {
        return { kind, value: JSON.parse(text) as unknown, diagnostics: [] };
      } catch (e) {
        return {
          kind,
          value: null,
          diagnostics: [diag('json-invalid', `not JSON: ${(e as Error).message}`)],
        };
      }
    case 'jsonl': {
      const value: unknown[] = [];
      const diagnostics: Diagnostic[] = [];
      text.split('\n').forEach((line, i) => {
        const t = line.trim();
        if (!t) return;
        try {
          value.push(JSON.parse(t) as unknown);
        } catch {
          diagnostics.push(diag('jsonl-line-invalid', `line ${i + 1} is not JSON`, i + 1, 'warning'));
        }
      });
      return { kind, value, diagnostics };
    }
    case 'lines':
      return { kind, value: text.split('\n').filter((l) => l.trim() !== ''), diagnostics: [] };
    case 'text':
      return { kind, value: text, diagnostics: [] };
    default:
      return undefined;
  }
}

export function parseOutput(kind: string, text: string, command: string): ParseResult {
  const basic = parseBasic(kind, text);
  if (basic) return basic;
  if (kind === 'auto') return parse({ text, command });
  if ((parseKinds as readonly string[]).includes(kind))
    return parse({ text, command, as: kind as ParseKind });
  return {
    kind,
    value: text,
    diagnostics: [
      diag('parser-unknown', `no parser for "${kind}"; the output is kept as text`, 1, 'warning'),
    ],
  };
}
