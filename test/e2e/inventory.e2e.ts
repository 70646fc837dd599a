/**
 * The cluster panel's Pods and Nodes views in Chromium through the web host: the seed's `kubectl get pods -o wide`
 * pasted under Captures shows every pod (none behind a Service), filters by node, shows the nodes with their pod IPs;
 * then 5,000 pods (a generated `kubectl get pods -A -o wide` table, a double of kubectl 1.32's layout) stay a
 * windowed table, and the time to open the Pods view is printed (measured, never asserted); last, a live cluster
 * (the kube-api **double** of kube.e2e.ts, serving the sandbox plan's objects) shows its Nodes' podCIDRs and the
 * canary pods behind two Services.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAME, plan, startKubeFixture, type KubeFixture } from '../kube/kube-harness.js';
import { waitFor, type RunningWebHost } from '../support/web-host-process.js';
import { openWorkbench, screenshotPath, type WorkbenchPage } from '../support/workbench-page.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const node254 = 'ip-10-0-8-254.ap-northeast-2.compute.internal';
const node176 = 'ip-10-0-8-176.ap-northeast-2.compute.internal';

/** `kubectl get pods -A -o wide` for `n` pods over 50 nodes, in kubectl 1.32's column layout (a double). */
function podsTable(n: number): string {
  const rows = [['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE']];
  for (let i = 0; i < n; i++) {
    const node = i % 50;
    const ready = i % 97 === 0 ? '0/1' : '1/1';
    rows.push([
      `ns-${i % 7}`,
      `app-${String(i).padStart(5, '0')}`,
      ready,
      ready === '1/1' ? 'Running' : 'Pending',
      String(i % 3),
      '5m',
      `10.${64 + (node >> 8)}.${node & 255}.${Math.floor(i / 50) + 2}`,
      `node-${String(node).padStart(2, '0')}`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]! + 3))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

describe('pods and nodes in the cluster panel', () => {
  let workbench: WorkbenchPage | undefined;
  let host: RunningWebHost;
  let page: Page;
  let fx: KubeFixture | undefined;

  beforeAll(async () => {
    workbench = await openWorkbench();
    ({ host, page } = workbench);
  });

  afterAll(async () => {
    await workbench?.close();
    await fx?.dispose();
  });

  const podNames = () =>
    page
      .getByTestId('pods-table')
      .locator('[data-testid="pod-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pod')));

  it("shows the seed's pasted pods, filters them by node, and shows the nodes with their pod IPs", async () => {
    await page.getByTestId('side-captures').click();
    await page
      .getByLabel('Output to add')
      .fill(readFileSync(path.join(fixtures, 'kubectl-table/seed-networking-get-pods-wide.txt'), 'utf8'));
    await page.getByLabel('Command').fill('kubectl get pods -o wide');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByText('Added as kubectl-table').waitFor();

    await page.getByTestId('side-cluster').click();
    const podsTab = page.getByRole('tab', { name: /^Pods/ });
    await podsTab.waitFor();
    expect(
      await page.getByRole('tablist', { name: 'Cluster view' }).getByRole('tab').allInnerTexts(),
    ).toEqual(['Services (0)', 'Pods (10)', 'Nodes (2)']);
    await podsTab.click();
    expect(await podsTab.getAttribute('aria-selected')).toBe('true');
    await expect.poll(podNames).toHaveLength(10);
    const headers = await page.getByTestId('pods-table').locator('thead th').allInnerTexts();
    expect(headers).toEqual([
      'name',
      'IP',
      'node',
      'ready',
      'status',
      'restarts',
      'services · endpoint?',
      'namespace',
    ]);
    // No Service was captured: every pod is marked as selected by none.
    const first = page.locator('[data-pod="default/kuard-dbdd7955d-4kdbr"]');
    expect(await first.getAttribute('data-marks')).toBe('no-service');
    expect(await first.locator('td').allInnerTexts()).toEqual([
      'kuard-dbdd7955d-4kdbr',
      '192.168.3.140',
      node254,
      '1/1',
      'Running',
      '0',
      'no Service',
      'default',
    ]);

    await page.getByLabel('Node', { exact: true }).selectOption(node176);
    await expect
      .poll(podNames)
      .toEqual([
        'default/kuard-dbdd7955d-5r757',
        'default/kuard-dbdd7955d-dhts5',
        'default/kuard-dbdd7955d-hsl87',
        'default/kuard-dbdd7955d-k8x7l',
        'default/kuard-dbdd7955d-wzcf4',
      ]);
    // Sorting by IP (a header click) puts .6 before .10.
    await page.getByTestId('pods-table').getByRole('button', { name: 'IP' }).click();
    await expect
      .poll(podNames)
      .toEqual([
        'default/kuard-dbdd7955d-5r757',
        'default/kuard-dbdd7955d-wzcf4',
        'default/kuard-dbdd7955d-k8x7l',
        'default/kuard-dbdd7955d-dhts5',
        'default/kuard-dbdd7955d-hsl87',
      ]);
    await page.getByLabel('Node', { exact: true }).selectOption('');
    await page.getByLabel('Filter pods (name, IP, node)').fill('192.168.3.13');
    await expect.poll(podNames).toHaveLength(4);

    // The tabs move with the arrow keys, as the tabs pattern has it.
    await podsTab.focus();
    await page.keyboard.press('ArrowRight');
    await expect
      .poll(() => page.getByRole('tab', { name: /^Nodes/ }).getAttribute('aria-selected'))
      .toBe('true');
    const nodeRows = page.getByTestId('nodes-table').locator('[data-testid="node-row"]');
    await expect.poll(() => nodeRows.count()).toBe(2);
    expect(await page.locator(`[data-node="${node254}"] td`).allInnerTexts()).toEqual([
      node254,
      '(seen in pods)',
      '',
      '–',
      '5',
      '–',
      '192.168.3.136 – 192.168.3.140 (5)',
    ]);
    // The pod count opens the Pods view filtered to that node.
    await page.locator(`[data-node="${node254}"]`).getByRole('button', { name: '5' }).click();
    await expect.poll(() => podsTab.getAttribute('aria-selected')).toBe('true');
    await expect.poll(podNames).toHaveLength(5);
    await page.screenshot({ path: screenshotPath('cluster-pods.png') });
  });

  it('keeps 5,000 pods a windowed table and prints how long the Pods view takes to open', async () => {
    await host.api.call('snapshot.clear', {});
    const text = podsTable(5000);
    const added = await host.api.call('snapshot.add', { text, command: 'kubectl get pods -A -o wide' });
    expect(added.captured?.kind).toBe('kubectl-table');
    await page.getByRole('tab', { name: /^Services/ }).click();
    await expect
      .poll(() => page.getByRole('tab', { name: /^Pods/ }).innerText(), { timeout: 20_000 })
      .toBe('Pods (5,000)');
    await waitFor(
      async () =>
        (await host.api.call('snapshot.get', {})).inventory.pods.length === 5000 ? true : undefined,
      '5,000 pods in the view',
    );

    /** Time from the click on a tab to the frame after React rendered it (two animation frames). */
    const timeOpen = (tab: string, testId: string) =>
      page.evaluate(
        async ([tabName, id]) => {
          const tabs = Array.from(document.querySelectorAll<HTMLElement>('[role="tab"]'));
          const button = tabs.find((t) => t.textContent?.startsWith(tabName!))!;
          const start = performance.now();
          button.click();
          while (!document.querySelector(`[data-testid="${id}"]`))
            await new Promise((r) => requestAnimationFrame(r));
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - start;
        },
        [tab, testId] as const,
      );
    const times: { pods: number; services: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const services = await timeOpen('Services', 'cluster-view-services');
      const pods = await timeOpen('Pods', 'pods-table');
      times.push({ pods, services });
    }
    const rendered = await page.getByTestId('pods-table').locator('[data-testid="pod-row"]').count();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `Pods view, 5,000 pods: open ${median(times.map((t) => t.pods)).toFixed(1)} ms median of 5 ` +
        `(Services view, no service: ${median(times.map((t) => t.services)).toFixed(1)} ms); ${rendered} rows in the DOM`,
    );
    // Windowed: the DOM holds the rows in view, not 5,000.
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(200);
    expect(await page.getByTestId('pods-table').getAttribute('aria-rowcount')).toBe('5001');

    // Scrolling to the end shows the last pods; filtering by node leaves that node's 100.
    await page.locator('.windowed-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.locator('[data-pod="ns-6/app-04997"]').waitFor();
    await page.getByLabel('Node', { exact: true }).selectOption('node-07');
    await expect.poll(() => page.getByTestId('pods-summary').innerText()).toMatch(/^100 pods of 5,000/);
    await page.locator('.windowed-scroll').evaluate((el) => (el.scrollTop = 0));
    await page.locator('[data-pod="ns-0/app-00007"]').waitFor();
    await page.screenshot({ path: screenshotPath('cluster-pods-5000.png') });
  });

  it("draws a big Service's pods only when opened, and at most 200 of them", async () => {
    await host.api.call('snapshot.clear', {});
    const items = Array.from({ length: 1000 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `big-${String(i).padStart(4, '0')}`, namespace: 'default', labels: { app: 'big' } },
      spec: { nodeName: `node-${i % 10}` },
      status: {
        phase: 'Running',
        podIP: `10.70.${i >> 8}.${i & 255}`,
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    }));
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'big', namespace: 'default' },
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.7.7',
        selector: { app: 'big' },
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      },
    };
    for (const [text, command] of [
      [JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), 'kubectl get pods -o json'],
      [JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [service] }), 'kubectl get svc -o json'],
    ] as const) {
      const added = await host.api.call('snapshot.add', { text, command });
      expect(added.captured?.kind).toBe('kubectl-object');
    }
    await page.getByRole('tab', { name: /^Services/ }).click();
    const card = page.getByTestId('service-default-big');
    await expect
      .poll(() => card.locator('summary').innerText(), { timeout: 20_000 })
      .toBe('1000 pods · 0 endpoints');
    // closed (more than 12 pods): no row drawn at all
    expect(await card.locator('tbody tr').count()).toBe(0);
    await card.locator('summary').click();
    await expect.poll(() => card.locator('tbody tr').count()).toBe(200);
    expect(await card.getByText(/^800 more pods not drawn here/).innerText()).toMatch(
      /\(1,000 in all\): the Pods view lists every pod/,
    );
  });

  it("shows a live cluster's nodes with their podCIDR and the canary pods behind two Services", async () => {
    // An empty snapshot empties the panel, so the views start over (Services first, no filters).
    await host.api.call('snapshot.clear', {});
    await page.getByTestId('side-cluster').click();
    fx = await startKubeFixture('labdeck-inventory-e2e-', (url, pki) => [
      { name: 'lab-double', server: url, ca: pki.caPem, tlsServerName: SERVER_NAME },
    ]);
    await page.getByText('Files', { exact: true }).click();
    await page.getByLabel('Kubeconfig file').fill(fx.kubeconfig);
    await expect
      .poll(() => page.getByLabel('Kubernetes context').locator('option').allTextContents(), {
        timeout: 10_000,
      })
      .toEqual(['lab-double (current)']);
    await page.getByTestId('cluster-connect-button').click();
    await expect
      .poll(() => page.getByTestId('cluster-state').textContent(), { timeout: 15_000 })
      .toMatch(/^Live: lab-double · \d+ pods · \d+ services · 3 nodes/);

    await page.getByRole('tab', { name: /^Nodes/ }).click();
    const worker1 = plan.nodes.find((n) => n.name === 'worker-1')!;
    const onWorker1 = plan.pods.filter((p) => p.node === 'worker-1').map((p) => p.ip);
    await page.locator('[data-node="worker-1"]').waitFor({ timeout: 15_000 });
    // The plan's pods on worker-1 and its kube-proxy (hostNetwork: counted, left out of the pod IP range).
    const ips = onWorker1.sort((x, y) => Number(x.split('.')[3]) - Number(y.split('.')[3]));
    expect(await page.locator('[data-node="worker-1"] td').allInnerTexts()).toEqual([
      'worker-1',
      'Ready',
      '<none>',
      worker1.ip,
      `${onWorker1.length + 1} (1 host)`,
      worker1.podCIDR,
      `${ips[0]} – ${ips[ips.length - 1]} (${ips.length})`,
    ]);
    const master = await page.locator('[data-node="master"] td').allInnerTexts();
    expect(master.slice(0, 3)).toEqual(['master', 'Ready', 'control-plane']);
    expect(master[5]).toBe('192.168.0.0/24');

    await page.getByRole('tab', { name: /^Pods/ }).click();
    const canary = plan.pods.find((p) => p.labels['track'] === 'canary')!;
    const row = page.locator(`[data-pod="default/${canary.name}"]`);
    await row.waitFor();
    const services = await row.locator('td').nth(6).innerText();
    expect(services).toBe('kuard ✓, kuard-canary ✓');
    await page.screenshot({ path: screenshotPath('cluster-nodes-live.png') });
    await page.getByTestId('cluster-connect-button').click();
    await expect
      .poll(() => page.getByTestId('cluster-state').textContent(), { timeout: 10_000 })
      .toBe('Not connected to a cluster.');
  });
});
