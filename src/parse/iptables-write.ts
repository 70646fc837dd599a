/**
 * IptablesRuleset → iptables-save text (the inverse of parseIptablesSave, rule by rule). Basic options are
 * printed from the model's fields in iptables-save's order (-s -d -i -o -p -f), then the match options and the
 * target as printed. Used by the round-trip property test and to show a rule the way iptables-save would.
 */
import type { IptablesRule, IptablesRuleset, NegatableField } from '../model/iptables.js';

function opt(
  rule: IptablesRule,
  field: NegatableField,
  flag: string,
  value: string | null,
  out: string[],
): void {
  if (value === null) return;
  if (rule.negations.includes(field)) out.push('!');
  out.push(flag, value);
}

export function serializeIptablesRule(chain: string, rule: IptablesRule): string {
  const out: string[] = [];
  if (rule.packets !== null && rule.bytes !== null && rule.raw.startsWith('['))
    out.push(`[${rule.packets}:${rule.bytes}]`);
  out.push('-A', chain);
  opt(rule, 'source', '-s', rule.source, out);
  opt(rule, 'destination', '-d', rule.destination, out);
  opt(rule, 'inInterface', '-i', rule.inInterface, out);
  opt(rule, 'outInterface', '-o', rule.outInterface, out);
  opt(rule, 'protocol', '-p', rule.protocol, out);
  if (rule.negations.includes('fragment')) out.push('!', '-f');
  if (rule.matchOptions !== null) out.push(rule.matchOptions);
  if (rule.target !== null) {
    out.push(rule.targetKind === 'goto' ? '-g' : '-j', rule.target);
    if (rule.targetOptions) out.push(rule.targetOptions);
  }
  return out.join(' ');
}

export function serializeIptablesSave(ruleset: IptablesRuleset): string {
  const lines: string[] = [];
  for (const [name, table] of Object.entries(ruleset.tables)) {
    lines.push(`*${name}`);
    for (const [chainName, chain] of Object.entries(table.chains)) {
      const counters = `[${chain.packets ?? 0}:${chain.bytes ?? 0}]`;
      lines.push(`:${chainName} ${chain.policy ?? '-'} ${counters}`);
    }
    for (const [chainName, chain] of Object.entries(table.chains))
      for (const rule of chain.rules) lines.push(serializeIptablesRule(chainName, rule));
    lines.push('COMMIT');
  }
  return lines.join('\n') + '\n';
}
