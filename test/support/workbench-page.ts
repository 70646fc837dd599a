/**
 * The end-to-end tests' workbench: a real web host process (web-host-process.ts) and Debian's Chromium
 * (chromium.ts) showing it in one 1600×900 page. `close()` closes the browser, then stops the host; it is safe to
 * call from `afterAll` even when start-up failed half way (nothing is left running then either).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chromiumArgs } from './chromium.js';
import { startWebHost, type RunningWebHost } from './web-host-process.js';

export interface WorkbenchPage {
  readonly host: RunningWebHost;
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  /** Wait until the page shows the host badge (the renderer has connected to the host). Default true. */
  readonly waitForHost?: boolean;
}

export async function openWorkbench(opts: OpenWorkbenchOptions = {}): Promise<WorkbenchPage> {
  const host = await startWebHost();
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await host.stop();
  };
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    await page.goto(host.url);
    if (opts.waitForHost !== false) await page.getByTestId('host-badge').waitFor();
    return { host, browser, page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

const screenshots = path.resolve(import.meta.dirname, '../../test-results/screenshots');

/** Where an e2e test saves screenshot `name` (test-results/screenshots/, created when first asked). */
export function screenshotPath(name: string): string {
  mkdirSync(screenshots, { recursive: true });
  return path.join(screenshots, name);
}
