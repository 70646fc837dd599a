/**
 * The Live cluster control in Chromium through the web host: connect to a context whose API server is the kube-api
 * **double** (loopback TLS, certificate checked with tls-server-name), see its services and pods in the cluster
 * panel, disconnect and see them go; a failing context shows its error.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_NAME, plan, startKubeFixture, type KubeFixture } from '../kube/kube-harness.js';
import { openWorkbench, screenshotPath, type WorkbenchPage } from '../support/workbench-page.js';

describe('live cluster in the workbench', () => {
  let workbench: WorkbenchPage | undefined;
  let page: Page;
  let fx: KubeFixture | undefined;
  let kubeconfig: string;

  beforeAll(async () => {
    fx = await startKubeFixture('labdeck-kube-e2e-', (url, pki) => [
      { name: 'lab-double', server: url, ca: pki.caPem, tlsServerName: SERVER_NAME },
      { name: 'wrong-ca', server: url, ca: pki.otherCaPem, tlsServerName: SERVER_NAME },
    ]);
    kubeconfig = fx.kubeconfig;
    workbench = await openWorkbench();
    page = workbench.page;
  });

  afterAll(async () => {
    await workbench?.close();
    await fx?.dispose();
  });

  it('connects to a context and shows its pods in the cluster panel', async () => {
    await page.getByTestId('side-cluster').click();
    await page.getByText('Files', { exact: true }).click();
    await page.getByLabel('Kubeconfig file').fill(kubeconfig);
    const select = page.getByLabel('Kubernetes context');
    await expect
      .poll(() => select.locator('option').allTextContents(), { timeout: 10_000 })
      .toEqual(['lab-double (current)', 'wrong-ca']);
    await page.getByTestId('cluster-connect-button').click();
    await expect
      .poll(() => page.getByTestId('cluster-state').textContent(), { timeout: 15_000 })
      .toMatch(/^Live: lab-double · \d+ pods · \d+ services · 3 nodes/);
    const kuard = page.getByTestId('service-default-kuard');
    await kuard.waitFor({ timeout: 15_000 });
    for (const pod of plan.pods) await kuard.getByText(pod.name, { exact: true }).waitFor();
    await page.screenshot({ path: screenshotPath('kube-live.png') });

    await page.getByTestId('cluster-connect-button').click();
    await expect
      .poll(() => page.getByTestId('cluster-state').textContent(), { timeout: 10_000 })
      .toBe('Not connected to a cluster.');
    await kuard.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('shows why a context cannot be reached', async () => {
    await page.getByLabel('Kubernetes context').selectOption('wrong-ca');
    await page.getByTestId('cluster-connect-button').click();
    await expect
      .poll(() => page.getByTestId('cluster-error').textContent(), { timeout: 10_000 })
      .toContain(
        `its certificate for "${SERVER_NAME}" is not signed by the kubeconfig's certificate authority`,
      );
    await expect.poll(() => page.getByTestId('cluster-state').textContent()).toBe('Not connected (wrong-ca)');
  });
});
