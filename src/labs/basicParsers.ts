import type { Diagnostic, ParseResult } from '../model/diagnostic.js';

/**
 * The few output kinds the lab engine reads by itself: `json`, `jsonl` (one JSON value per line, e.g. repeated
 * `curl …/env/api`), `lines` and `text`. Everything else (kubectl tables, iptables-save, …) is src/parse's job;
 * the CLI puts both behind one ParseFn. Total: odd input gives diagnostics, never an exception.
 */
export const basicParserKinds = ['json', 'jsonl', 'lines', 'text'] as const;

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
