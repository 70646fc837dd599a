/** The one place tests turn iptables-save text into a ruleset (the parser double until the parse branch lands). */
import type { IptablesRuleset } from '../../../src/model/iptables.js';
import { rulesetFromSaveDouble } from './rulesetDouble.js';

export function parseRuleset(text: string): IptablesRuleset {
  return rulesetFromSaveDouble(text);
}
