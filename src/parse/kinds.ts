/** The kinds of output we can parse (`labdeck parse --list`, `--as KIND`). `unparsed`: no parser claimed it. */
export const parseKinds = [
  'kubectl-table',
  'kubectl-object',
  'kubectl-name',
  'kubectl-jsonpath',
  'kubectl-action',
  'kubeconfig',
  'iptables-save',
  'iptables-list',
  'ip-addr',
  'ip-route',
  'ifconfig',
  'cni-config',
  'cni-error',
  'file-list',
  'kuard-env',
  'hostname',
  'transcript',
] as const;

export type ParseKind = (typeof parseKinds)[number];
export type ResultKind = ParseKind | 'unparsed';

/** One line per kind for `labdeck parse --list`. */
export const parseKindDescriptions: Record<ParseKind, string> = {
  'kubectl-table': 'kubectl get … tables (-o wide, -A, --show-labels, --no-headers, get all)',
  'kubectl-object': 'kubectl … -o yaml|json (single objects and Lists)',
  'kubectl-name': 'kubectl … -o name',
  'kubectl-jsonpath': 'kubectl … -o jsonpath=… (words)',
  'kubectl-action': 'kubectl run/expose/create/apply results ("service/kuard exposed")',
  kubeconfig: 'a kubeconfig file (credentials are not copied)',
  'iptables-save': 'iptables-save / iptables -S (nf_tables or legacy; fragments too)',
  'iptables-list': 'iptables [-t T] -L [-n] [-v] [-x] [--line-numbers]',
  'ip-addr': 'ip addr, ip -br addr',
  'ip-route': 'ip route',
  ifconfig: 'ifconfig (busybox and net-tools)',
  'cni-config': 'CNI .conflist / .conf JSON',
  'cni-error': 'a CNI plugin\'s error result ({"code": …, "msg": …})',
  'file-list': 'ls output (e.g. /opt/cni/bin)',
  'kuard-env': "kuard's /env/api JSON (one or many answers)",
  hostname: 'hostname',
  transcript: 'a pasted terminal session: prompts, commands and their outputs',
};
