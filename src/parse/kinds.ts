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
