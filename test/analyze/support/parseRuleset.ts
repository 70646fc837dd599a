/** The one place tests turn iptables-save text into a ruleset: the real parser (src/parse/iptables-save.ts). */
import { parseIptablesSave } from '../../../src/parse/iptables-save.js';
import type { IptablesRuleset } from '../../../src/model/iptables.js';

export function parseRuleset(text: string): IptablesRuleset {
  const r = parseIptablesSave(text);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0)
    throw new Error(
      `iptables-save did not parse: ${errors.map((d) => `${d.line}: ${d.message}`).join('; ')}`,
    );
  return r.value;
}
