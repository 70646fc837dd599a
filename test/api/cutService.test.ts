// The workbench's pushed view cuts a big Service's lists (cutService); `labdeck analyze` keeps them whole.
import { describe, expect, it } from 'vitest';
import { analyzeSnapshot } from '../../src/analyze/index.js';
import { cutService, VIEW_ROWS_PER_SERVICE } from '../../src/api/snapshotService.js';
import { captured, endpoints, pod, service, snapshotOf, type WorldPod } from '../analyze/support/world.js';

function bigService(n: number) {
  const pods: WorldPod[] = [];
  for (let i = 0; i < n; i++)
    pods.push({
      name: `big-${String(i).padStart(4, '0')}`,
      ip: `10.70.${i >> 8}.${i & 255}`,
      node: `node-${i % 10}`,
      labels: { app: 'big' },
    });
  const svc = service({
    name: 'big',
    clusterIP: '10.96.7.7',
    port: 80,
    portName: 'http',
    targetPort: 8080,
    selector: { app: 'big' },
  });
  // endpoints listed in the reverse order, so the first pods' endpoints come last
  const analysis = analyzeSnapshot(
    snapshotOf({
      pods: [captured(pods.map(pod), null, 'kubectl get pods -o yaml')],
      services: [captured([svc], null, 'kubectl get svc -o yaml')],
      endpoints: [captured([endpoints('big', 'http', 8080, [...pods].reverse())], null, 'endpoints')],
    }),
  );
  return analysis.services.find((s) => s.name === 'big')!;
}

describe('cutService', () => {
  it('keeps a small Service as it is', () => {
    const svc = bigService(50);
    expect(cutService(svc)).toBe(svc);
    expect(svc.cutFrom).toBeUndefined();
  });

  it('cuts a big one to 200 pods and the endpoints of those pods, and says how long the lists were', () => {
    const svc = bigService(1000);
    expect(svc.pods).toHaveLength(1000);
    const cut = cutService(svc);
    expect(cut.pods).toHaveLength(VIEW_ROWS_PER_SERVICE);
    expect(cut.endpoints).toHaveLength(VIEW_ROWS_PER_SERVICE);
    // every pod kept has its endpoint in the view, so none shows as "missing"
    const ips = new Set(cut.endpoints.map((e) => e.ip));
    expect(cut.pods.every((p) => ips.has(p.ip!))).toBe(true);
    expect(cut.cutFrom).toEqual({ pods: 1000, endpoints: 1000, backends: {} });
    expect(JSON.stringify(cut).length).toBeLessThan(JSON.stringify(svc).length / 3);
    // the analysis itself is untouched
    expect(svc.pods).toHaveLength(1000);
  });
});
