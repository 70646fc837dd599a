/**
 * The parse benchmark's input: a large node in the current kube-proxy format, written by the product's writer
 * (src/sandbox/kube-proxy-rules.ts) as a full restore file (built-in chains, jumps, filter and nat tables).
 * Every Nth service is a NodePort service. Per-endpoint comments are kept at any size (kube-proxy itself drops them
 * above 1,000 endpoints), so the parser meets its longest rule lines.
 */
import { nodeRestoreText, type ServicePortSpec } from '../src/sandbox/kube-proxy-rules.js';

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
  const specs: ServicePortSpec[] = [];
  for (let s = 0; s < services; s++) {
    const endpoints = [];
    for (let e = 0; e < eps; e++) {
      const n = s * eps + e;
      endpoints.push({ ip: `10.${244 + ((n >> 16) & 7)}.${(n >> 8) & 255}.${n & 255}`, port: 8080 });
    }
    specs.push({
      namespace: `ns${s % 50}`,
      name: `svc${s}`,
      portName: 'http',
      protocol: 'TCP',
      clusterIP: `10.96.${(s >> 8) & 255}.${s & 255}`,
      port: 80,
      ...(nodePortEvery > 0 && s % nodePortEvery === 0 && { nodePort: 30000 + (s % 2768) }),
      endpoints,
    });
  }
  return nodeRestoreText(specs, {
    clusterCIDR: shape.clusterCIDR ?? '10.244.0.0/16',
    largeClusterMode: false,
  });
}
