import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type RunningWebHost } from '../support/web-host-process.js';
import { openWorkbench, screenshotPath, type WorkbenchPage } from '../support/workbench-page.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');

describe('workbench in Chromium through the web host', () => {
  let workbench: WorkbenchPage | undefined;
  let host: RunningWebHost;
  let page: Page;

  beforeAll(async () => {
    workbench = await openWorkbench();
    ({ host, page } = workbench);
  });

  afterAll(async () => {
    await workbench?.close();
  });

  /** Opens a terminal in the page and waits until its shell hooks report. */
  async function openTerminal(): Promise<string> {
    const before = new Set((await host.api.call('terminal.list', {})).map((t) => t.id));
    await page.getByTestId('new-terminal').click();
    return waitFor(async () => {
      const list = await host.api.call('terminal.list', {});
      return list.find((t) => !before.has(t.id) && t.shellIntegration)?.id;
    }, 'a new terminal with shell integration');
  }

  /** The terminal's buffer (scrollback and screen) as lines of text, read from xterm in the page. */
  async function bufferLines(id: string): Promise<string[]> {
    return page
      .locator(`[data-terminal-id="${id}"]`)
      .evaluate((el) => (el as unknown as { labdeckBufferText: () => string[] }).labdeckBufferText());
  }

  async function typeLine(id: string, line: string): Promise<void> {
    await page.locator(`[data-terminal-id="${id}"] .xterm-helper-textarea`).focus();
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
  }

  it('captures a command typed in a local terminal as a block with its output and exit code', async () => {
    const id = await openTerminal();
    await typeLine(id, 'echo hello; (exit 3)');
    const block = await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'echo hello; (exit 3)');
    }, 'the block of `echo hello; (exit 3)`');
    expect(block.output).toBe('hello');
    expect(block.exitCode).toBe(3);
    await page.getByTestId('side-commands').click();
    await page.getByTestId('block').first().waitFor();
    await page.screenshot({ path: screenshotPath('terminal-blocks.png') });
  });

  it("turns the seed's captures into the service data path and its findings", async () => {
    const id = await openTerminal();
    // Output typed by hand in a terminal is parsed when detection recognises it ...
    for (const file of [
      'kubectl-object/seed-none-endpoints-yaml.txt',
      'kubectl-object/seed-clusterip-svc-yaml.txt',
    ]) {
      await typeLine(id, `cat ${path.join(fixtures, file)}`);
    }
    await typeLine(id, `cat ${path.join(fixtures, 'kubectl-table/seed-networking-get-pods-wide.txt')}`);
    await waitFor(async () => {
      const view = await host.api.call('snapshot.get', {});
      return view.captures.length >= 3 ? true : undefined;
    }, 'three captures from the terminal');
    // ... and output taken elsewhere is pasted, with the command and the node it came from.
    await page.getByTestId('side-captures').click();
    for (const part of ['kube-services-rule', 'kube-svc-chain', 'kube-sep-chain']) {
      await page
        .getByLabel('Output to add')
        .fill(readFileSync(path.join(fixtures, `iptables-save/seed-clusterip-${part}.txt`), 'utf8'));
      await page.getByLabel('Command').fill('iptables-save');
      await page.getByLabel('Node').fill('ip-10-0-23-3');
      await page.getByRole('button', { name: 'Add' }).click();
      await page.getByText('Added as iptables-save').waitFor();
    }
    await page.getByTestId('side-findings').click();
    await page.locator('[data-code="sep-stale"]').waitFor();
    expect(await page.locator('[data-code="sep-stale"]').innerText()).toContain('192.168.236.133');
    await page.getByTestId('side-cluster').click();
    const chains = page.getByTestId('service-default-kuard').getByTestId('chains-ip-10-0-23-3');
    await chains.waitFor();
    expect(await chains.locator('tbody tr').count()).toBe(10);
    expect(await chains.locator('td.share').allInnerTexts()).toEqual(Array(10).fill('10.0 %'));
    await page.screenshot({ path: screenshotPath('workbench.png') });
  });

  it('ignores a shell-integration mark printed without the session nonce', async () => {
    const id = await openTerminal();
    await typeLine(id, "printf '\\e]133;D;0\\a'; echo fake-mark-printed");
    // Wait for the prompt before typing on, so the tty's echo of type-ahead cannot land in the first block.
    await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.length > 0 ? true : undefined;
    }, 'the first block');
    await typeLine(id, 'echo done');
    await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.some((b) => b.command === 'echo done') ? true : undefined;
    }, 'the block of `echo done`');
    const blocks = await host.api.call('terminal.blocks', { id });
    expect(blocks.map((b) => b.command)).toEqual([
      "printf '\\e]133;D;0\\a'; echo fake-mark-printed",
      'echo done',
    ]);
    expect(blocks[0]?.output).toBe('fake-mark-printed');
    expect(blocks[0]?.exitCode).toBe(0);
  });

  it('survives a 100 MB flood with bounded renderer heap, and Ctrl-C brings the prompt back', async () => {
    const id = await openTerminal();
    const cdp = await page.context().newCDPSession(page);
    let peakHeap = 0;
    const sample = async () => {
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      peakHeap = Math.max(peakHeap, usedSize);
    };
    await typeLine(id, "head -c 100000000 /dev/zero | tr '\\0' x; echo; echo flood-done");
    const flood = await waitFor(
      async () => {
        await sample();
        const blocks = await host.api.call('terminal.blocks', { id });
        return blocks.find((b) => b.command.startsWith('head -c 100000000'));
      },
      'the 100 MB flood to finish',
      1200,
      250,
    );
    expect(flood.exitCode).toBe(0);
    // The block keeps the head of a huge output; the screen must show its very end, nothing lost in between.
    expect(flood.truncated).toBe(true);
    const screen = page.locator(`[data-terminal-id="${id}"] .xterm-rows`);
    await expect.poll(async () => screen.innerText(), { timeout: 10_000 }).toMatch(/x\n+flood-done\n/);
    // Without flow control the socket and xterm's write queue would hold the whole 100 MB.
    expect(peakHeap).toBeLessThan(96 * 1024 * 1024);

    // Every line inside the scrollback window arrives, in order: the last 10,000 of 200,000 numbered lines.
    await typeLine(id, 'seq 1 200000');
    await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'seq 1 200000');
    }, '`seq 1 200000` to finish');
    const seqLines = async () => (await bufferLines(id)).filter((l) => /^\d+$/.test(l)).map(Number);
    await expect.poll(async () => (await seqLines()).at(-1), { timeout: 10_000 }).toBe(200000);
    const numbers = await seqLines();
    expect(numbers.length).toBeGreaterThan(9_900);
    const first = numbers[0]!;
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => first + i));

    await typeLine(id, 'yes');
    await new Promise((r) => setTimeout(r, 1500));
    await page.keyboard.press('Control+C');
    const interrupted = await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'yes');
    }, '`yes` to end after Ctrl-C');
    expect(interrupted.exitCode).toBe(130);
    await typeLine(id, 'echo prompt-is-back');
    const after = await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'echo prompt-is-back');
    }, 'a command after Ctrl-C');
    expect(after.output).toBe('prompt-is-back');
    await page.screenshot({ path: screenshotPath('after-flood.png') });
    console.log(`e2e flood: renderer peak heap ${(peakHeap / 1048576).toFixed(1)} MB`);
  });

  it('keeps the shells across a reload of the page: each comes back in a tab with what it printed', async () => {
    const id = await openTerminal();
    await typeLine(id, 'echo before-reload');
    await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'echo before-reload');
    }, 'the block before the reload');
    await page.reload();
    const view = page.locator(`[data-terminal-id="${id}"]`);
    await view.waitFor({ state: 'attached' });
    await expect
      .poll(async () => (await bufferLines(id)).join('\n'), { timeout: 10_000 })
      .toContain('before-reload');
    await typeLine(id, 'echo after-reload');
    const block = await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'echo after-reload');
    }, 'a command typed after the reload');
    expect(block.output).toBe('after-reload');
  });
});
