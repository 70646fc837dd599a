import { describe, expect, it } from 'vitest';
import {
  endpointChainName,
  kubeProxyJumpRules,
  kubeProxyRestoreText,
  probabilityString,
  savedProbability,
  iptablesSaveText,
  serviceChainName,
  sortEndpoints,
} from '../../src/sandbox/kube-proxy-rules.js';

const svc1 = { namespace: 'ns1', name: 'svc1', portName: 'p80', protocol: 'TCP' as const };

describe('kube-proxy chain names', () => {
  it('match the hashes in kubernetes proxier_test.go', () => {
    // proxier_test.go: ns1/svc1:p80 tcp → KUBE-SVC-XPGD46QRK7WJZT7O, endpoint 10.180.0.1:80 → KUBE-SEP-SXIVWICOYRO3J4NJ
    expect(serviceChainName(svc1)).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChainName(svc1, { ip: '10.180.0.1', port: 80 })).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('match the seed cluster (2019 kube-proxy wrote an unnamed port as "default/kuard:")', () => {
    // seed 000_fc6df25fcccb5e79.txt: "default/kuard: cluster IP" ... -j KUBE-SVC-CUXC5A3HHHVSSN62
    expect(serviceChainName({ namespace: 'default', name: 'kuard:', portName: '', protocol: 'TCP' })).toBe(
      'KUBE-SVC-CUXC5A3HHHVSSN62',
    );
  });
});

describe('kubeProxyRestoreText', () => {
  const text = kubeProxyRestoreText(
    [
      {
        ...svc1,
        clusterIP: '172.30.0.41',
        port: 80,
        nodePort: 3001,
        endpoints: [
          { ip: '10.180.0.2', port: 80 },
          { ip: '10.180.0.1', port: 80 },
        ],
      },
    ],
    { clusterCIDR: '10.0.0.0/8' },
  );

  it('writes the NodePort service like proxier_test.go expects', () => {
    const lines = text.split('\n');
    expect(lines).toContain(
      '-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-XPGD46QRK7WJZT7O',
    );
    expect(lines).toContain(
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    );
    expect(lines).toContain(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    );
    expect(lines).toContain(
      '-A KUBE-EXT-XPGD46QRK7WJZT7O -m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" -j KUBE-MARK-MASQ',
    );
    expect(lines).toContain(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
    );
    expect(lines).toContain(
      '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    );
    expect(lines.at(-3)).toBe(
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    );
  });

  it('rejects a service without endpoints in the filter table', () => {
    const t = kubeProxyRestoreText([{ ...svc1, clusterIP: '172.30.0.41', port: 80, endpoints: [] }]);
    expect(t).toContain(
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT',
    );
    expect(t).not.toContain('KUBE-SVC-');
  });

  it('drops per-endpoint comments in large cluster mode', () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, port: 80 }));
    const t = kubeProxyRestoreText([{ ...svc1, clusterIP: '172.30.0.41', port: 80, endpoints: eps }]);
    expect(t).not.toMatch(/-A KUBE-SEP-\S+ -m comment/);
  });

  it('keeps per-endpoint comments at any size when large cluster mode is turned off', () => {
    const eps = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, port: 80 }));
    const t = kubeProxyRestoreText([{ ...svc1, clusterIP: '172.30.0.41', port: 80, endpoints: eps }], {
      largeClusterMode: false,
    });
    expect(t.match(/-A KUBE-SEP-\S+ -m comment --comment ns1\/svc1:p80 -s /g)).toHaveLength(1001);
  });

  it('writes LoadBalancer ingress, externalTrafficPolicy Local and ClientIP affinity as proxier.go does', () => {
    const sep1 = endpointChainName(svc1, { ip: '10.180.0.1', port: 80 });
    const sep2 = endpointChainName(svc1, { ip: '10.180.0.2', port: 80 });
    const base = serviceChainName(svc1).slice('KUBE-SVC-'.length);
    const t = kubeProxyRestoreText(
      [
        {
          ...svc1,
          clusterIP: '172.30.0.41',
          port: 80,
          nodePort: 3001,
          loadBalancerIPs: ['1.2.3.4'],
          externalTrafficPolicyLocal: true,
          affinitySeconds: 10800,
          endpoints: [
            { ip: '10.180.0.2', port: 80, local: true },
            { ip: '10.180.0.1', port: 80 },
          ],
        },
      ],
      { clusterCIDR: '10.0.0.0/8' },
    );
    for (const line of [
      `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-${base}`,
      `-A KUBE-EXT-${base} -m comment --comment "pod traffic for ns1/svc1:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-${base}`,
      `-A KUBE-EXT-${base} -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      `-A KUBE-EXT-${base} -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${base}`,
      `-A KUBE-EXT-${base} -j KUBE-SVL-${base}`,
      `-A KUBE-SVC-${base} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name ${sep1} --rcheck --seconds 10800 --reap -j ${sep1}`,
      `-A KUBE-SVL-${base} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j ${sep2}`,
      `-A ${sep2} -m comment --comment ns1/svc1:p80 -m recent --name ${sep2} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80`,
    ])
      expect(t).toContain(line);
    expect(t).not.toContain('masquerade traffic for ns1/svc1:p80 external destinations');
  });
});

describe('helpers', () => {
  it('prints probabilities back as iptables-save does (seed: 2019 kube-proxy wrote %0.5f)', () => {
    // seed 000_fc6df25fcccb5e79.txt, KUBE-SVC-CUXC5A3HHHVSSN62
    expect(savedProbability('0.10000')).toBe('0.10000000009');
    expect(savedProbability('0.11111')).toBe('0.11110999994');
    expect(savedProbability('0.14286')).toBe('0.14286000002');
    expect(savedProbability('0.33333')).toBe('0.33332999982');
    expect(savedProbability('0.50000')).toBe('0.50000000000');
  });
  it('renders a rule in iptables-save order', () => {
    const text = iptablesSaveText(
      '*nat\n:KUBE-SVC-X - [0:0]\n-A KUBE-SVC-X -m comment --comment "a b" -m tcp -p tcp -d 10.0.0.1 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ\nCOMMIT\n',
    );
    expect(text).toContain(
      '-A KUBE-SVC-X ! -s 10.0.0.0/8 -d 10.0.0.1/32 -p tcp -m comment --comment "a b" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    );
  });

  it('prints probabilities with %0.10f', () => {
    expect(probabilityString(10)).toBe('0.1000000000');
    expect(probabilityString(3)).toBe('0.3333333333');
  });
  it('sorts endpoints by their ip:port string', () => {
    expect(
      sortEndpoints([
        { ip: '192.168.1.2', port: 8080 },
        { ip: '192.168.1.10', port: 8080 },
      ]).map((e) => e.ip),
    ).toEqual(['192.168.1.10', '192.168.1.2']);
  });
  it('orders the built-in jump rules as repeated -I leaves them, after the kubelet KUBE-FIREWALL jump (seed)', () => {
    const input = kubeProxyJumpRules().filter((j) => j.table === 'filter' && j.chain === 'INPUT');
    expect(input.map((j) => j.spec.split('-j ').pop())).toEqual([
      'KUBE-PROXY-FIREWALL',
      'KUBE-NODEPORTS',
      'KUBE-EXTERNAL-SERVICES',
      'KUBE-FIREWALL',
    ]);
  });
});
