/**
 * The generator's two renderings against the real tools: its restore text must load with the real
 * iptables-restore, and its iptables-save rendering must equal what the real iptables-save prints afterwards
 * (iptables v1.8.9, nf_tables, on this machine). Runs in a network namespace of its own.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServicePortSpec } from '../../src/sandbox/kube-proxy-rules.js';
import {
  iptablesSaveText,
  kubeProxyRestoreText,
  nodeRestoreText,
} from '../../src/sandbox/kube-proxy-rules.js';

const ns = `ldv${process.pid}`;

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input ?? '');
  });
}

beforeAll(async () => {
  await run('ip', ['netns', 'add', ns]);
});

afterAll(async () => {
  await run('ip', ['netns', 'del', ns]).catch(() => undefined);
});

function services(count: number, endpointsEach: number): ServicePortSpec[] {
  return Array.from({ length: count }, (_, i): ServicePortSpec => {
    const eps = i % 7 === 3 ? 0 : 1 + ((i * endpointsEach) % (endpointsEach + 1));
    return {
      namespace: `ns${i % 3}`,
      name: `svc-${i}`,
      portName: i % 2 ? 'http' : '',
      protocol: i % 11 === 5 ? 'UDP' : 'TCP',
      clusterIP: `10.96.${(i >> 8) & 255}.${(i & 255) + 1}`,
      port: i % 2 ? 80 : 8443,
      ...(i % 4 === 0 ? { nodePort: 30000 + i } : {}),
      endpoints: Array.from({ length: eps }, (_, j) => ({ ip: `192.168.${i & 255}.${j + 10}`, port: 8080 })),
    };
  });
}

async function saved(): Promise<string> {
  const text = await run('ip', ['netns', 'exec', ns, 'iptables-save']);
  return `${text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .join('\n')}\n`;
}

describe('kube-proxy rules against the real iptables', () => {
  it('renders exactly what iptables-save prints for a node with many service shapes', async () => {
    const text = nodeRestoreText(services(60, 5), { clusterCIDR: '192.168.0.0/16' });
    await run('ip', ['netns', 'exec', ns, 'iptables-restore'], text);
    expect(iptablesSaveText(text)).toBe(await saved());
  });

  it('renders exactly what iptables-save prints in large cluster mode (over 1000 endpoints)', async () => {
    const svcs = services(200, 12);
    expect(svcs.reduce((n, s) => n + s.endpoints.length, 0)).toBeGreaterThan(1000);
    const text = nodeRestoreText(svcs, { clusterCIDR: '192.168.0.0/16' });
    await run('ip', ['netns', 'exec', ns, 'iptables-restore'], text);
    expect(iptablesSaveText(text)).toBe(await saved());
  });

  it('loads the bare sync payload with iptables-restore --noflush, as kube-proxy does', async () => {
    const payload = kubeProxyRestoreText(services(10, 3), { clusterCIDR: '192.168.0.0/16' });
    await run('ip', ['netns', 'exec', ns, 'iptables-restore', '--noflush'], payload);
    expect(await saved()).toContain(
      '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m comment --comment "ns1/svc-1:http cluster IP"',
    );
  });
});
