/**
 * Parser results → a Snapshot. Each result carries where it came from; a pasted transcript (the seed's terminal
 * sessions) is opened entry by entry, each entry's command line and prompt becoming its source. Repeated kuard
 * answers to the same address from the same machine become one sample set.
 */
import type { Route, Routes } from '../model/addresses.js';
import type { CniConfig } from '../model/cni.js';
import type { Endpoints } from '../model/endpoints.js';
import type { IptablesRuleset } from '../model/iptables.js';
import type { KuardEnv, KuardResponses } from '../model/kuard.js';
import type { KubeObjects } from '../model/kube.js';
import type { Node } from '../model/node.js';
import type { Pod } from '../model/pod.js';
import type { Service } from '../model/service.js';
import type { BackendHint, CaptureSource, Captured, Samples, Snapshot } from '../model/snapshot.js';
import type { Transcript } from '../model/transcript.js';

/** One parsed output: the parser's kind and value, and where the text was captured. */
export interface ParsedCapture {
  readonly kind: string;
  readonly value: unknown;
  readonly source: CaptureSource;
}

/** `ubuntu@ip-10-0-23-3:~/.kube$` → `ip-10-0-23-3`; `$`, `~ $` → null. */
export function hostOfPrompt(prompt: string | null): string | null {
  const m = /^[^@\s]+@([^:\s]+)[:\s]/.exec(prompt ?? '');
  return m ? m[1]! : null;
}

/** The address a `curl`/`wget` line asked: `curl 10.110.41.209:80/env/api` → `10.110.41.209:80`. */
export function requestTarget(command: string | null): string | null {
  const m =
    /(?:curl|wget)\b[^\n]*?\s(?:https?:\/\/)?((?:\d{1,3}\.){3}\d{1,3}(?::\d+)?|localhost(?::\d+)?)(?:\/|\s|$)/.exec(
      command ?? '',
    );
  return m ? m[1]! : null;
}

export function snapshotFromParsed(captures: readonly ParsedCapture[]): Snapshot {
  const pods: Captured<readonly Pod[]>[] = [];
  const nodes: Captured<readonly Node[]>[] = [];
  const services: Captured<readonly Service[]>[] = [];
  const endpoints: Captured<readonly Endpoints[]>[] = [];
  const rulesets: Captured<IptablesRuleset>[] = [];
  const cniConfigs: Captured<CniConfig>[] = [];
  const routes: Captured<readonly Route[]>[] = [];
  const backendHints: Captured<BackendHint>[] = [];
  const samples = new Map<string, { source: CaptureSource; values: string[]; target: string | null }>();

  const add = (c: ParsedCapture): void => {
    switch (c.kind) {
      case 'kubectl-table':
      case 'kubectl-object': {
        const o = c.value as KubeObjects;
        if (o.pods.length) pods.push({ source: c.source, value: o.pods });
        if (o.nodes.length) nodes.push({ source: c.source, value: o.nodes });
        if (o.services.length) services.push({ source: c.source, value: o.services });
        if (o.endpoints.length) endpoints.push({ source: c.source, value: o.endpoints });
        break;
      }
      case 'iptables-save':
        rulesets.push({ source: c.source, value: c.value as IptablesRuleset });
        break;
      case 'cni-config':
        cniConfigs.push({ source: c.source, value: c.value as CniConfig });
        break;
      case 'ip-route':
        routes.push({ source: c.source, value: (c.value as Routes).routes });
        break;
      case 'kuard-env': {
        const v = c.value as KuardEnv | KuardResponses;
        const answers = 'responses' in v ? v.responses : [v];
        const target = requestTarget(c.source.command);
        const key = `${c.source.node ?? ''}|${target ?? c.source.command ?? ''}`;
        const entry = samples.get(key) ?? { source: c.source, values: [], target };
        for (const a of answers) if (a.hostname !== null) entry.values.push(a.hostname);
        samples.set(key, entry);
        break;
      }
      case 'transcript':
        for (const e of (c.value as Transcript).entries) {
          const node = hostOfPrompt(e.prompt) ?? c.source.node;
          add({
            kind: e.output.kind,
            value: e.output.value,
            source: {
              node,
              command: e.command,
              takenAt: c.source.takenAt,
              ...(c.source.origin !== undefined && { origin: `${c.source.origin}:${e.line}` }),
            },
          });
        }
        break;
      case 'unparsed': {
        // No parser reads `nft list ruleset` or `ipvsadm -Ln`; their text still tells how kube-proxy runs.
        // parse's `unparsed` keeps the text with control characters escaped, newlines included (`\x0a`).
        const text = ((c.value as { text?: string } | null)?.text ?? '').replace(/\\x0a/g, '\n');
        const cmd = c.source.command ?? '';
        const kind =
          /\bipvsadm\b/.test(cmd) || /^IP Virtual Server version/m.test(text)
            ? 'ipvs'
            : /\bnft\b/.test(cmd) || /^table (ip|ip6|inet) \S+ \{/m.test(text)
              ? 'nftables'
              : null;
        if (kind !== null) backendHints.push({ source: c.source, value: { kind, text } });
        break;
      }
      default:
        break;
    }
  };
  for (const c of captures) add(c);
  return {
    pods,
    nodes,
    services,
    endpoints,
    rulesets,
    cniConfigs,
    routes,
    samples: [...samples.values()]
      .filter((s) => s.values.length > 0)
      .map((s): Captured<Samples> => ({
        source: s.source,
        value: { target: s.target, service: null, valueKind: 'hostname', values: s.values },
      })),
    backendHints,
  };
}
