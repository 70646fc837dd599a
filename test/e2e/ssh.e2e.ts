import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackSshd, writeLoopbackSshConfig, type LoopbackSshd } from '../support/terminal-sshd.js';
import { waitFor, type RunningWebHost } from '../support/web-host-process.js';
import { openWorkbench, type WorkbenchPage } from '../support/workbench-page.js';

describe('an SSH terminal in the workbench (real OpenSSH sshd on 127.0.0.1)', () => {
  let sshd: LoopbackSshd;
  let workbench: WorkbenchPage | undefined;
  let host: RunningWebHost;
  let page: Page;
  let config: string;
  let knownHosts: string;

  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    ({ config, knownHosts } = writeLoopbackSshConfig(sshd, 'labnode'));
    workbench = await openWorkbench();
    ({ host, page } = workbench);
  });

  afterAll(async () => {
    await workbench?.close();
    await sshd?.dispose();
  });

  it('asks about the unknown host key with its SHA256 fingerprint, then opens a shell whose commands become blocks', async () => {
    await page.getByTestId('ssh-terminal').click();
    await page.getByLabel('Destination').fill('labnode');
    await page.getByLabel('SSH config file').fill(config);
    // The destination field suggests the Host entries of that config.
    await expect
      .poll(() =>
        page.locator('#ssh-hosts option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
      )
      .toContain('labnode');
    await page.getByRole('button', { name: 'Connect' }).click();

    const prompt = page.getByTestId('host-key-prompt');
    await prompt.waitFor();
    // The same fingerprint OpenSSH's ssh-keygen prints for the host key.
    const fingerprint = execFileSync('ssh-keygen', ['-lf', sshd.hostKeyPubFile], { encoding: 'utf8' }).split(
      ' ',
    )[1]!;
    expect(await prompt.innerText()).toContain(fingerprint);
    expect(existsSync(knownHosts)).toBe(false); // nothing decided, nothing written
    await prompt.getByRole('button', { name: 'Accept and remember' }).click();

    const id = await waitFor(async () => {
      const list = await host.api.call('terminal.list', {});
      return list.find((t) => t.kind === 'ssh' && t.shellIntegration)?.id;
    }, 'the ssh terminal with its shell hooks');
    expect(readFileSync(knownHosts, 'utf8')).toMatch(/ssh-ed25519 /);

    await page.locator(`[data-terminal-id="${id}"] .xterm-helper-textarea`).focus();
    await page.keyboard.type('echo hello; (exit 3)');
    await page.keyboard.press('Enter');
    const block = await waitFor(async () => {
      const blocks = await host.api.call('terminal.blocks', { id });
      return blocks.find((b) => b.command === 'echo hello; (exit 3)');
    }, 'the block from the ssh terminal');
    expect(block).toMatchObject({ output: 'hello', exitCode: 3 });
  });

  it('refuses a host whose key changed, naming it, and opens nothing', async () => {
    // Close the terminal: its connection was the only lease, so the next one connects (and checks keys) afresh.
    await page.getByRole('button', { name: 'Close tab' }).click();
    await expect.poll(async () => (await host.api.call('terminal.list', {})).length).toBe(0);
    // known_hosts now says labnode has another key: the real one no longer matches.
    const other = path.join(sshd.dir, 'other_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const line = readFileSync(knownHosts, 'utf8').trim().split(' ');
    writeFileSync(
      knownHosts,
      `${line[0]} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
    );
    await page.getByTestId('ssh-terminal').click();
    await page.getByLabel('Destination').fill('labnode');
    await page.getByLabel('SSH config file').fill(config);
    await page.getByRole('button', { name: 'Connect' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/HOST KEY CHANGED for labnode/);
    expect(await host.api.call('terminal.list', {})).toEqual([]);
  });
});
