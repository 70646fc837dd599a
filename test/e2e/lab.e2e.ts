import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningWebHost } from '../support/web-host-process.js';
import { openWorkbench, screenshotPath, type WorkbenchPage } from '../support/workbench-page.js';

const docsShot = path.resolve(import.meta.dirname, '../../docs/screenshot.png');

describe('the lab guide, played from a shipped recording (no cluster, no root)', () => {
  let workbench: WorkbenchPage | undefined;
  let host: RunningWebHost;
  let page: Page;

  beforeAll(async () => {
    workbench = await openWorkbench({ waitForHost: false });
    ({ host, page } = workbench);
  });

  afterAll(async () => {
    await workbench?.close();
  });

  /** Runs whole steps one after the other, each to the end. */
  async function runSteps(steps: readonly string[]): Promise<void> {
    for (const step of steps) {
      await page.getByTestId(`step-${step}`).click();
      await page.getByTestId('run-step').click();
      // Done when the step's checks are shown and every one shows a result (○ is "not run yet"); an empty list
      // (checks not drawn yet) is not done.
      const marks = page.getByTestId('lab-checks').locator('li[data-testid^="check-"] > .mark');
      await expect
        .poll(
          async () => {
            const shown = await marks.allInnerTexts();
            return shown.length > 0 && shown.every((m) => m !== '○');
          },
          { timeout: 20_000 },
        )
        .toBe(true);
    }
  }

  it('opens the TGIK-002 lab by default on its recorded sandbox run, labelled as recorded, whose checks pass', async () => {
    await page.getByTestId('lab-panel').waitFor();
    await page.getByTestId('recorded-banner').waitFor();
    expect(await page.getByTestId('recorded-banner').innerText()).toMatch(
      /sandbox[\s\S]*Nothing runs on any machine/,
    );
    await runSteps(['service-types', 'endpoints', 'chains']);
    const agrees = page.getByTestId('check-kube-proxy-agrees');
    await expect.poll(async () => agrees.innerText(), { timeout: 20_000 }).toMatch(/^✔/);
    expect(await page.getByLabel('Lab', { exact: true }).inputValue()).toBe(
      'tgik-002-networking-and-services',
    );
  });

  it('runs a block: its recorded output appears, marked RECORDED, and feeds the cluster panel', async () => {
    // The seed write-up's own captures, the lab's second recording.
    await page.getByLabel('Where the lab runs').selectOption('replay:seed-2019');
    await expect
      .poll(async () => page.getByTestId('recorded-banner').innerText())
      .toMatch(/seed captures 2019/);
    await page.getByTestId('step-pods').click();
    const block = page.getByTestId('lab-block-pods-list');
    await block.getByRole('button', { name: 'Run' }).click();
    const output = block.getByTestId('lab-output');
    await output.waitFor();
    expect(await output.innerText()).toMatch(/RECORDED[\s\S]*kuard-dbdd7955d-4kdbr/);
    await expect
      .poll(async () => (await host.api.call('snapshot.get', {})).captures.some((c) => c.origin === 'lab'))
      .toBe(true);
  });

  it("shows a learner why the seed's captures do not add up: the stale KUBE-SEP, with its evidence", async () => {
    // As a learner would: the Service (step 5), its Endpoints (step 6), then the nodes' chains (step 9).
    await runSteps(['service-types', 'endpoints', 'chains']);
    const check = page.getByTestId('check-kube-proxy-agrees');
    await expect.poll(async () => check.innerText(), { timeout: 20_000 }).toMatch(/✘/);
    expect(await check.innerText()).toContain('192.168.236.133');
    await page.getByTestId('side-findings').click();
    await page.locator('[data-code="sep-stale"]').waitFor();
    await page.screenshot({ path: screenshotPath('lab-guide.png') });
    // README's picture: `UPDATE_DOCS_SCREENSHOT=1 npm run test:e2e` retakes it.
    if (process.env.UPDATE_DOCS_SCREENSHOT) await page.screenshot({ path: docsShot });
  });

  it('opens a lab from another folder untrusted, asks before each command, and types it into a terminal the user sees', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'labdeck-e2e-lab-'));
    try {
      mkdirSync(path.join(dir, 'hello-lab'));
      writeFileSync(
        path.join(dir, 'hello-lab', 'lab.md'),
        [
          '---',
          'id: hello-lab',
          'title: Hello from elsewhere',
          'summary: A lab that is not one of the app own.',
          'estimatedTime: 1m',
          'roles:',
          '  workstation: {description: this machine}',
          '---',
          '## Say hello {#hello}',
          '',
          '```sh {role=workstation id=say-hello}',
          'echo hello-from-an-untrusted-lab',
          '```',
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(dir, 'inventory.yaml'), 'environment: here\nroles:\n  workstation: local\n');
      await page.getByLabel('Lab folder').fill(path.join(dir, 'hello-lab'));
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      await page.getByTestId('untrusted').waitFor();
      await page.getByLabel('Inventory file').fill(path.join(dir, 'inventory.yaml'));
      await page.getByRole('button', { name: 'Bind' }).click();
      const block = page.getByTestId('lab-block-say-hello');
      await expect.poll(async () => block.getByRole('button', { name: 'Run' }).isEnabled()).toBe(true);
      await block.getByRole('button', { name: 'Run' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.innerText()).toMatch(
        /workstation \(local bash[\s\S]*echo hello-from-an-untrusted-lab/,
      );
      expect(await block.getByTestId('lab-output').count()).toBe(0); // nothing ran before the answer
      await dialog.getByRole('button', { name: 'Run it' }).click();
      await block.getByTestId('lab-output').waitFor();
      expect(await block.getByTestId('lab-output').innerText()).toContain('hello-from-an-untrusted-lab');
      // It was typed into the workstation's terminal, which the user watches in a tab of its own.
      const typed = await Promise.all(
        (await host.api.call('terminal.list', {})).map((t) => host.api.call('terminal.blocks', { id: t.id })),
      );
      expect(typed.flat().find((b) => b.command === 'echo hello-from-an-untrusted-lab')).toMatchObject({
        output: 'hello-from-an-untrusted-lab',
        exitCode: 0,
      });
      expect(await page.locator('.xterm-rows').last().innerText()).toContain('hello-from-an-untrusted-lab');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
