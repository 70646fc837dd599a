/**
 * A real dump of kube-proxy's current layout (test/fixtures/iptables-save/captured-kube-proxy-current.txt, captured
 * by the parse branch with iptables-save v1.8.9 in a throwaway namespace) read with the services it was written
 * for: KUBE-FW with loadBalancerSourceRanges, KUBE-EXT/KUBE-SVL for externalTrafficPolicy Local, `-m recent`
 * affinity, and a port without endpoints.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeSnapshot } from '../../src/analyze/index.js';
import { parseRuleset } from './support/parseRuleset.js';
import { captured, endpoints, pod, service, snapshotOf, type WorldPod } from './support/world.js';

const dump = readFileSync('test/fixtures/iptables-save/captured-kube-proxy-current.txt', 'utf8');
const p = (name: string, ip: string, node: string): WorldPod => ({
  name,
  ip,
  node,
  labels: { app: name.split('-')[0]! },
});
const kuardPods = [
  p('kuard-1', '10.244.1.5', 'node-a'),
  p('kuard-2', '10.244.2.3', 'node-b'),
  p('kuard-3', '10.244.2.4', 'node-b'),
];
const localPods = [p('local-1', '10.244.1.9', 'node-a')];
const stickyPods = [p('sticky-1', '10.244.1.7', 'node-a'), p('sticky-2', '10.244.2.7', 'node-b')];
const base = { port: 80, portName: 'http', targetPort: 8080 };

function analysis() {
  return analyzeSnapshot(
    snapshotOf({
      pods: [
        captured([...kuardPods, ...localPods, ...stickyPods].map(pod), null, 'kubectl get pods -o wide'),
      ],
      services: [
        captured(
          [
            service({
              ...base,
              name: 'kuard',
              clusterIP: '10.97.169.67',
              nodePort: 30361,
              type: 'LoadBalancer',
              loadBalancerIngress: ['203.0.113.10'],
            }),
            service({
              ...base,
              name: 'kuard-local',
              selector: { app: 'local' },
              clusterIP: '10.97.10.20',
              nodePort: 30362,
              type: 'LoadBalancer',
              externalTrafficPolicy: 'Local',
            }),
            service({
              ...base,
              name: 'sticky',
              selector: { app: 'sticky' },
              clusterIP: '10.97.10.30',
              sessionAffinity: 'ClientIP',
            }),
            service({
              ...base,
              name: 'empty',
              selector: { app: 'empty' },
              clusterIP: '10.96.50.50',
              nodePort: 31000,
            }),
          ],
          null,
          'kubectl get svc -o yaml',
        ),
      ],
      endpoints: [
        captured(
          [
            endpoints('kuard', 'http', 8080, kuardPods),
            endpoints('kuard-local', 'http', 8080, localPods),
            endpoints('sticky', 'http', 8080, stickyPods),
            endpoints('empty', 'http', 8080, []),
          ],
          null,
          'kubectl get endpoints -o yaml',
        ),
      ],
      rulesets: [captured(parseRuleset(dump), 'node-a', 'iptables-save')],
    }),
  );
}

describe('a captured current-layout dump', () => {
  it('reads every kind of service in it, and finds nothing wrong', () => {
    const { services, findings } = analysis();
    expect(findings).toEqual([]);
    const on = (name: string) => services.find((s) => s.name === name)!.nodes['node-a']!.ports[0]!;
    const kuard = on('kuard');
    expect(kuard).toMatchObject({
      svcChain: 'KUBE-SVC-CUXC5A3HHHVSSN62',
      fwChain: 'KUBE-FW-CUXC5A3HHHVSSN62',
      extChain: 'KUBE-EXT-CUXC5A3HHHVSSN62',
    });
    expect(kuard.externalRules).toEqual([
      '-A KUBE-SERVICES -d 203.0.113.10/32 -p tcp -m comment --comment "default/kuard:http loadbalancer IP" -m tcp --dport 80 -j KUBE-FW-CUXC5A3HHHVSSN62',
    ]);
    expect(kuard.backends.map((b) => [b.ip, b.pod, Number(b.effectiveProbability.toFixed(6))])).toEqual([
      ['10.244.1.5', 'kuard-1', 0.333333],
      ['10.244.2.3', 'kuard-2', 0.333333],
      ['10.244.2.4', 'kuard-3', 0.333333],
    ]);
    const local = on('kuard-local');
    expect(local.localChain).toBe('KUBE-SVL-LOCALKUARDHTTP0');
    expect(local.localBackends.map((b) => b.ip)).toEqual(['10.244.1.9']);
    const sticky = on('sticky');
    expect(sticky.affinity).toMatchObject({ seconds: 10800 });
    expect(sticky.affinity!.rules).toHaveLength(2);
    expect(sticky.backends.map((b) => b.probability)).toEqual([0.5, null]);
    const empty = on('empty');
    expect(empty.svcChain).toBeNull();
    expect(empty.noEndpointsRules).toHaveLength(2);
  });
});
