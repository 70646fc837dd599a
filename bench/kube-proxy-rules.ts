/**
 * A kube-proxy (iptables mode) ruleset in the current format (Kubernetes ≥1.28, pkg/proxy/iptables/proxier.go):
 * KUBE-SERVICES → KUBE-SVC-* (masquerade rule for off-cluster sources, then one `-m statistic` jump per endpoint
 * with comment "ns/name:port -> ip:port") → KUBE-SEP-* (hairpin masquerade, DNAT); NodePort services get
 * KUBE-NODEPORTS → KUBE-EXT-*. Chain names are kube-proxy's: base32(sha256(servicePortName + protocol))[:16].
 * Input for iptables-restore; iptables-save prints it back in its own spelling (e.g. 11-digit probabilities).
 */
import { createHash } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export function chainName(prefix: string, key: string): string {
  return `${prefix}-${base32(createHash('sha256').update(key).digest()).slice(0, 16)}`;
}

export interface RulesetShape {
  services: number;
  endpointsPerService: number;
  /** Every Nth service is a NodePort service (0: none). */
  nodePortEvery?: number;
  clusterCIDR?: string;
}

export function generateKubeProxyRules(shape: RulesetShape): string {
  const { services, endpointsPerService: eps } = shape;
  const nodePortEvery = shape.nodePortEvery ?? 10;
  const clusterCIDR = shape.clusterCIDR ?? '10.244.0.0/16';
  const decl: string[] = [];
  const svcRules: string[] = [];
  const nodePorts: string[] = [];
  const rules: string[] = [];
  for (let s = 0; s < services; s++) {
    const ns = `ns${s % 50}`;
    const name = `svc${s}`;
    const spn = `${ns}/${name}:http`;
    const svc = chainName('KUBE-SVC', spn + 'tcp');
    const clusterIP = `10.96.${(s >> 8) & 255}.${s & 255}`;
    decl.push(`:${svc} - [0:0]`);
    svcRules.push(
      `-A KUBE-SERVICES -d ${clusterIP}/32 -p tcp -m comment --comment "${spn} cluster IP" -m tcp --dport 80 -j ${svc}`,
    );
    rules.push(
      `-A ${svc} ! -s ${clusterCIDR} -d ${clusterIP}/32 -p tcp -m comment --comment "${spn} cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
    );
    if (nodePortEvery > 0 && s % nodePortEvery === 0) {
      const ext = chainName('KUBE-EXT', spn + 'tcp');
      const port = 30000 + (s % 2768);
      decl.push(`:${ext} - [0:0]`);
      nodePorts.push(
        `-A KUBE-NODEPORTS -p tcp -m comment --comment "${spn}" -m tcp --dport ${port} -j ${ext}`,
      );
      rules.push(
        `-A ${ext} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
      );
      rules.push(`-A ${ext} -j ${svc}`);
    }
    for (let e = 0; e < eps; e++) {
      const n = s * eps + e;
      const ip = `10.${244 + ((n >> 16) & 7)}.${(n >> 8) & 255}.${n & 255}`;
      const sep = chainName('KUBE-SEP', spn + 'tcp' + `${ip}:8080`);
      decl.push(`:${sep} - [0:0]`);
      const left = eps - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
      rules.push(`-A ${svc} -m comment --comment "${spn} -> ${ip}:8080"${stat} -j ${sep}`);
      rules.push(`-A ${sep} -s ${ip}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m comment --comment "${spn}" -m tcp -j DNAT --to-destination ${ip}:8080`);
    }
  }
  return [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ...decl,
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ...nodePorts,
    ...svcRules,
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ...rules,
    'COMMIT',
    '',
  ].join('\n');
}
