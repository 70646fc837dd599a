/**
 * A pasted terminal session: split at prompt lines (`user@host:~$ cmd`, `$ cmd`, `~ $ cmd`, `root@h:/# cmd`),
 * and parse each command's output with the parser its command line picks. A bare `# ` is not taken as a
 * prompt (it is a comment in YAML and shell). Output before any prompt is parsed by its shape; a first line
 * that starts with a known command and no prompt (the seed's `kubectl run …`) counts as a command.
 */
import type { ParseResult } from '../model/diagnostic.js';
import type { Transcript, TranscriptEntry } from '../model/transcript.js';
import { Diagnostics, field, splitLines, stripAnsi } from './text.js';

export type TranscriptResult = ParseResult<'transcript', Transcript>;
type ParseFn = (input: { text: string; command?: string }) => ParseResult;

// prompt forms: user@host:path$ | user@host:path# | user@host: (the seed's) | [user@host path]$ | $ | ~ $ | / #
const PROMPT =
  /^((?:[\w.-]+@[\w.-]+:[^\s$#]*[$#]?)|(?:\[[^\]]+\][$#])|(?:[~/][^\s$#]* [$#])|\$)\s+([\s\S]*)$/;
const PROMPT_ALONE = /^((?:[\w.-]+@[\w.-]+:[^\s$#]*[$#])|\$)\s*$/;
const COMMANDS =
  /^(sudo |kubectl |k |iptables|ip6tables|ip |ifconfig|curl |wget |cat |ls\b|hostname\b|ssh |SSH_KEY=|\.\/)/;

export function parseTranscript(text: string, parse: ParseFn): TranscriptResult {
  const diags = new Diagnostics();
  const entries: TranscriptEntry[] = [];
  let cur: { prompt: string | null; command: string | null; line: number; out: string[] } | null = null;
  const flush = (): void => {
    if (cur === null) return;
    const out = cur.out.join('\n');
    const input = cur.command !== null ? { text: out, command: cur.command } : { text: out };
    const result = parse(input);
    // Parsers report lines of the output; shift them to lines of the transcript.
    const shift = cur.command !== null ? cur.line : cur.line - 1;
    const shifted = {
      ...result,
      diagnostics: result.diagnostics.map((d) => ({ ...d, line: d.line + shift })),
    };
    for (const d of shifted.diagnostics)
      if (d.severity === 'error') diags.add('warning', `output-${d.code}`, d.line, d.column, d.message);
    entries.push({ prompt: cur.prompt, command: cur.command, line: cur.line, output: shifted });
    cur = null;
  };
  for (const l of splitLines(text)) {
    const t = stripAnsi(l.text);
    const m = PROMPT.exec(t) ?? (PROMPT_ALONE.test(t) ? [t, t.trim(), ''] : null);
    const bare: string | null = cur === null && entries.length === 0 && COMMANDS.test(t) ? t : null;
    if (m || bare !== null) {
      flush();
      cur = {
        prompt: m ? field(m[1]!, diags, l.n, 1) : null,
        command: m ? field(m[2]!.trim(), diags, l.n, 1) : field(bare!.trim(), diags, l.n, 1),
        line: l.n,
        out: [],
      };
      continue;
    }
    if (cur === null) cur = { prompt: null, command: null, line: l.n, out: [] };
    cur.out.push(l.text);
  }
  flush();
  if (entries.length === 0) diags.info('transcript-empty', 1, 1, 'empty transcript');
  return { kind: 'transcript', value: { entries }, diagnostics: diags.done() };
}
