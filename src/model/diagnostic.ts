/**
 * What every parser returns (docs/json.md): the kind it parsed as, the value, and what it noticed.
 * Parsers are total: odd input yields diagnostics, never an exception.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** Stable, kebab-case; users and tests match on it. */
  readonly code: string;
  readonly severity: Severity;
  /** 1-based line and column in the parsed text. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface ParseResult<K extends string = string, V = unknown> {
  readonly kind: K;
  readonly value: V;
  readonly diagnostics: readonly Diagnostic[];
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
