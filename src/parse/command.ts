/**
 * What a command line tells us about its output: which parser, and the options that shape the output
 * (`-o wide`, `-A`, `--no-headers`, `-t nat`). The line is split like a POSIX shell would (quotes, pipes) but
 * never run. Wrappers are looked through: `sudo`, `VAR=x`, `time`, `watch`, `ip netns exec NS`,
 * `kubectl exec POD --`, and the first command of a pipeline decides (`iptables-save | grep KUBE`).
 */
import type { ParseKind } from './kinds.js';

export interface CommandInfo {
  kind: ParseKind | null;
  confidence: number;
  /** The words of the command that decided (after wrappers). */
  argv: string[];
  /** Options for the parser (kubectl table options, iptables table). */
  resource?: string;
  wide?: boolean;
  allNamespaces?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
  namespace?: string;
  table?: string;
  /** The pipeline had a stage that changes the format (`wc`, `awk`, `cut`): lower confidence. */
  transformed?: boolean;
}

/** Split a shell line into pipeline stages of words. Quotes and backslashes as in sh; `;`, `&&`, `||` end it. */
export function shellWords(line: string): string[][] {
  const stages: string[][] = [[]];
  let cur = '';
  let has = false;
  let i = 0;
  const push = (): void => {
    if (has) stages[stages.length - 1]!.push(cur);
    cur = '';
    has = false;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end < 0 ? line.length : end);
      has = true;
      i = end < 0 ? line.length : end + 1;
    } else if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        cur += line[i];
        i++;
      }
      has = true;
      i++;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      has = true;
      i += 2;
    } else if (c === ' ' || c === '\t') {
      push();
      i++;
    } else if (c === '|' && line[i + 1] !== '|') {
      push();
      stages.push([]);
      i++;
    } else if (c === ';' || (c === '&' && line[i + 1] === '&') || (c === '|' && line[i + 1] === '|')) {
      break;
    } else {
      cur += c;
      has = true;
      i++;
    }
  }
  push();
  return stages.filter((s) => s.length > 0);
}

const KEEPS_FORMAT = new Set([
  'less',
  'more',
  'head',
  'tail',
  'grep',
  'egrep',
  'fgrep',
  'cat',
  'sort',
  'tr',
  'tee',
  'column',
]);

function unwrap(argv: string[]): string[] {
  let a = argv;
  for (let guard = 0; guard < 10; guard++) {
    const w = a[0];
    if (w === undefined) return a;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) a = a.slice(1);
    else if (w === 'sudo' || w === 'time' || w === 'exec' || w === 'command') {
      a = a.slice(1);
      while (a[0]?.startsWith('-')) a = a.slice(a[0] === '-u' ? 2 : 1);
    } else if (w === 'watch') {
      a = a.slice(1);
      while (a[0]?.startsWith('-')) a = a.slice(a[0] === '-n' ? 2 : 1);
    } else if (w === 'ip' && a[1] === 'netns' && a[2] === 'exec') a = a.slice(4);
    else if ((w === 'kubectl' || w === 'k') && a[1] === 'exec' && a.includes('--'))
      a = a.slice(a.indexOf('--') + 1);
    else return a;
  }
  return a;
}

function base(w: string | undefined): string {
  if (w === undefined) return '';
  const slash = w.lastIndexOf('/');
  return slash >= 0 ? w.slice(slash + 1) : w;
}

/** Value of a flag given as `-o wide`, `-owide`, `-o=wide`, `--output wide`, `--output=wide`. */
function flag(argv: string[], short: string | null, long: string | null): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    for (const f of [short, long]) {
      if (f === null) continue;
      if (w === f) return argv[i + 1] ?? '';
      if (w.startsWith(f + '=')) return w.slice(f.length + 1);
      if (f.length === 2 && w.startsWith(f) && !w.startsWith('--') && w.length > 2) return w.slice(2);
    }
  }
  return undefined;
}

export function commandInfo(line: string): CommandInfo {
  const stages = shellWords(line.trim());
  const first = stages[0] ?? [];
  const argv = unwrap(first);
  const transformed = stages.slice(1).some((s) => !KEEPS_FORMAT.has(base(s[0])));
  const info = classify(argv);
  if (transformed) {
    info.transformed = true;
    info.confidence = Math.min(info.confidence, 0.4);
  }
  return info;
}

function classify(argv: string[]): CommandInfo {
  const cmd = base(argv[0]);
  const none: CommandInfo = { kind: null, confidence: 0, argv };
  switch (cmd) {
    case 'kubectl':
    case 'k':
    case 'oc':
      return kubectl(argv);
    case 'iptables-save':
    case 'iptables-nft-save':
    case 'iptables-legacy-save':
    case 'ip6tables-save':
    case 'ip6tables-nft-save':
    case 'ip6tables-legacy-save': {
      const t = flag(argv, '-t', '--table');
      return { kind: 'iptables-save', confidence: 0.95, argv, ...(t ? { table: t } : {}) };
    }
    case 'iptables':
    case 'iptables-nft':
    case 'iptables-legacy':
    case 'ip6tables': {
      const t = flag(argv, '-t', '--table');
      const list = argv.some((w) => w === '--list' || /^-[a-zA-Z]*L/.test(w));
      const rules = argv.some((w) => w === '--list-rules' || /^-[a-zA-Z]*S/.test(w));
      const kind: ParseKind | null = list ? 'iptables-list' : rules ? 'iptables-save' : null;
      if (kind === null) return none;
      return { kind, confidence: 0.95, argv, ...(t ? { table: t } : {}) };
    }
    case 'ip': {
      const words = argv.slice(1).filter((w) => !w.startsWith('-'));
      const obj = words[0] ?? '';
      if (
        ['a', 'ad', 'add', 'addr', 'addre', 'addres', 'address'].includes(obj) ||
        obj === 'link' ||
        obj === 'l'
      )
        return { kind: 'ip-addr', confidence: 0.9, argv };
      if (['r', 'ro', 'rou', 'rout', 'route'].includes(obj))
        return { kind: 'ip-route', confidence: 0.9, argv };
      return none;
    }
    case 'ifconfig':
      return { kind: 'ifconfig', confidence: 0.95, argv };
    case 'ls':
      return { kind: 'file-list', confidence: 0.8, argv };
    case 'hostname':
      return argv.length === 1 ? { kind: 'hostname', confidence: 0.9, argv } : none;
    case 'curl':
    case 'wget':
      return argv.some((w) => w.includes('/env/api')) ? { kind: 'kuard-env', confidence: 0.85, argv } : none;
    case 'cat':
    case 'less':
    case 'more':
    case 'jq': {
      const file = argv.slice(1).find((w) => !w.startsWith('-')) ?? '';
      if (/\.(conflist|conf)$/.test(file) && file.includes('cni'))
        return { kind: 'cni-config', confidence: 0.9, argv };
      if (/\.conflist$/.test(file)) return { kind: 'cni-config', confidence: 0.85, argv };
      if (/\.conf$/.test(file)) return { kind: 'cni-config', confidence: 0.5, argv };
      if (/kubeconfig|\.kube\/config|admin\.conf$/.test(file))
        return { kind: 'kubeconfig', confidence: 0.85, argv };
      return none;
    }
    default:
      // running a CNI plugin by hand: /opt/cni/bin/calico, ./calico
      if (
        argv[0] !== undefined &&
        (argv[0].startsWith('/opt/cni/bin/') ||
          /^\.\/(calico|bridge|flannel|portmap|host-local|loopback|ptp|macvlan|ipvlan|bandwidth|tuning|vlan|dhcp|calico-ipam|cilium-cni)$/.test(
            argv[0],
          ))
      )
        return { kind: 'cni-error', confidence: 0.6, argv };
      return none;
  }
}

function kubectl(argv: string[]): CommandInfo {
  // positional words after the verb, skipping flags and their values
  const valued = new Set([
    '-n',
    '--namespace',
    '-o',
    '--output',
    '-l',
    '--selector',
    '--context',
    '--kubeconfig',
    '-f',
    '--filename',
    '--field-selector',
    '-c',
    '--container',
    '--sort-by',
    '--type',
    '--port',
    '--target-port',
    '--image',
    '--replicas',
    '--name',
  ]);
  const pos: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') break;
    if (w.startsWith('-')) {
      if (valued.has(w)) i++;
      continue;
    }
    pos.push(w);
  }
  const verb = pos[0];
  const out = flag(argv, '-o', '--output');
  const ns = flag(argv, '-n', '--namespace');
  const base: CommandInfo = { kind: null, confidence: 0, argv };
  if (ns) base.namespace = ns;
  if (verb === 'config' && pos[1] === 'view') return { ...base, kind: 'kubeconfig', confidence: 0.9 };
  const kindOfOutput = (): ParseKind | null => {
    if (out === undefined) return null;
    if (out === 'yaml' || out === 'json') return 'kubectl-object';
    if (out === 'name') return 'kubectl-name';
    if (out.startsWith('jsonpath') || out.startsWith('go-template') || out.startsWith('custom-columns')) {
      return out.startsWith('custom-columns') ? 'kubectl-table' : 'kubectl-jsonpath';
    }
    return null;
  };
  const k = kindOfOutput();
  if (verb === 'get') {
    if (k !== null) return { ...base, kind: k, confidence: 0.95, ...(pos[1] ? { resource: pos[1] } : {}) };
    const resource = pos[1];
    const info: CommandInfo = { ...base, kind: 'kubectl-table', confidence: 0.95 };
    if (resource !== undefined) info.resource = resource.includes('/') ? resource.split('/')[0]! : resource;
    if (out === 'wide') info.wide = true;
    if (argv.includes('-A') || argv.includes('--all-namespaces')) info.allNamespaces = true;
    if (argv.includes('--show-labels')) info.showLabels = true;
    if (argv.includes('--no-headers') || argv.includes('--no-headers=true')) info.noHeaders = true;
    return info;
  }
  if (
    verb === 'run' ||
    verb === 'expose' ||
    verb === 'create' ||
    verb === 'apply' ||
    verb === 'delete' ||
    verb === 'scale' ||
    verb === 'label' ||
    verb === 'annotate' ||
    verb === 'patch' ||
    verb === 'set'
  ) {
    if (k !== null) return { ...base, kind: k, confidence: 0.9 };
    return { ...base, kind: 'kubectl-action', confidence: 0.8 };
  }
  return base;
}
