import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackSshd, writeLoopbackSshConfig, type LoopbackSshd } from '../support/terminal-sshd.js';
import type { RunningWebHost } from '../support/web-host-process.js';
import { openWorkbench, screenshotPath, type WorkbenchPage } from '../support/workbench-page.js';

/**
 * The Forwards panel end to end: Debian's Chromium on the built web host, a real OpenSSH sshd on 127.0.0.1 and a
 * small HTTP server on 127.0.0.1 that the forward reaches through sshd (the seed's `-L8080:localhost:8080`, with
 * ports picked free here). Nothing leaves loopback.
 */
describe('SSH local forwards in the workbench (real sshd on 127.0.0.1)', () => {
  let sshd: LoopbackSshd;
  let app: HttpServer;
  let appPort: number;
  let workbench: WorkbenchPage | undefined;
  let host: RunningWebHost;
  let page: Page;
  let config: string;
  let knownHosts: string;

  beforeAll(async () => {
    sshd = await startLoopbackSshd();
    // Stands in for kuard: the page the seed browses at localhost:8080 on the master.
    app = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>kuard stand-in</title><h1 id="who">served through the forward</h1>');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    appPort = (app.address() as { port: number }).port;
    ({ config, knownHosts } = writeLoopbackSshConfig(sshd, 'master'));
    workbench = await openWorkbench();
    ({ host, page } = workbench);
  });

  afterAll(async () => {
    await workbench?.close();
    await sshd?.dispose();
    await new Promise((r) => app?.close(r));
  });

  it('adds -L in OpenSSH syntax on a host with no terminal (host key asked in the UI), sees it listening without a link (not a web port), reconnecting after a drop, closes it and the port is free', async () => {
    await page.getByTestId('side-forwards').click();
    await page.getByLabel('Forward SSH host').fill('master');
    await page.getByLabel('Forward SSH config file').fill(config);
    // The host field suggests the Host entries of that config.
    await expect
      .poll(() =>
        page.locator('#forward-hosts option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
      )
      .toContain('master');
    await page.getByLabel('Forward spec').fill(`0:localhost:${appPort}`);
    await page.getByRole('button', { name: 'Add forward' }).click();

    // No terminal to this host yet: the forward connects through the same chain, asking about the host key.
    const prompt = page.getByTestId('host-key-prompt');
    await prompt.waitFor();
    expect(existsSync(knownHosts)).toBe(false);
    await prompt.getByRole('button', { name: 'Accept and remember' }).click();

    const row = page.getByTestId('forward');
    await expect.poll(() => row.getAttribute('data-state')).toBe('listening');
    expect(readFileSync(knownHosts, 'utf8')).toMatch(/ssh-ed25519 /);
    const [f] = await host.api.call('forwards.list', {});
    expect(f).toMatchObject({ destination: 'master', remoteHost: 'localhost', remotePort: appPort });
    const local = `127.0.0.1:${f!.listening!.port}`;
    expect(await row.innerText()).toMatch(new RegExp(`→\\s*localhost:${appPort}`));
    await page.screenshot({ path: screenshotPath('forwards-listening.png') });

    // The remote port is not an http-ish one (a random free port), so no link: the local address is plain text.
    expect(await row.getByRole('button', { name: /^http/ }).count()).toBe(0);
    expect(await row.innerText()).toContain(local);
    const res = await fetch(`http://${local}/`, { signal: AbortSignal.timeout(5000) });
    expect(await res.text()).toContain('served through the forward');

    // The SSH connection drops (sshd's process for it is killed; the listener stays): the row says
    // "reconnecting" with the reason, then "listening" again on a new connection, the same local port.
    const children = execFileSync('pgrep', ['-P', String(sshd.pid)], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter((n) => n > 0);
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) process.kill(pid, 'SIGKILL');
    await expect.poll(() => row.getAttribute('data-state')).toBe('reconnecting');
    expect(await row.innerText()).toMatch(/closed by remote/);
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('listening');
    expect(await row.innerText()).toContain(local);

    await row.getByRole('button', { name: `Close forward ${local} to localhost:${appPort}` }).click();
    await expect.poll(async () => (await host.api.call('forwards.list', {})).length).toBe(0);
    await expect.poll(() => page.getByTestId('forward').count()).toBe(0);
    // The local port is free again.
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(f!.listening!.port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('offers an http link for a web port through the link confirmation, and the page comes through the forward', async () => {
    // A web port (8080, as kuard's) on an address of our own in 127.0.0.0/8, so no other test's 8080 is in the way.
    const webAddress = `127.214.${process.pid % 250}.1`;
    const web = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>kuard stand-in</title><h1>served through the forward</h1>');
    });
    await new Promise<void>((resolve, reject) => {
      web.once('error', reject);
      web.listen(8080, webAddress, () => resolve());
    });
    try {
      await page.getByTestId('side-forwards').click();
      await page.getByLabel('Forward SSH host').fill('master');
      await page.getByLabel('Forward SSH config file').fill(config);
      await page.getByLabel('fields').check();
      await page.getByLabel('Local port').fill('0');
      await page.getByLabel('Remote host').fill(webAddress);
      await page.getByLabel('Remote port').fill('8080');
      await page.getByLabel('Bind address').fill('0.0.0.0');
      // Not loopback: the form says who could connect and wants an explicit yes before it sends anything.
      await expect.poll(() => page.getByText('is not a loopback address').count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Add forward' }).isDisabled()).toBe(true);
      await page.getByLabel('Bind address').fill('127.0.0.1');
      await page.getByRole('button', { name: 'Add forward' }).click();

      const row = page.getByTestId('forward');
      await expect.poll(() => row.getAttribute('data-state')).toBe('listening');
      // The host was trusted in the first test: no question this time.
      expect(await page.getByTestId('host-key-prompt').count()).toBe(0);
      const f = (await host.api.call('forwards.list', {})).find((x) => x.remoteHost === webAddress);
      const url = `http://127.0.0.1:${f!.listening!.port}/`;
      await row.getByRole('button', { name: url }).click();
      // The app's link confirmation shows the address first.
      const dialog = page.getByRole('dialog');
      expect(await dialog.innerText()).toContain(url);
      const [popup] = await Promise.all([
        page.waitForEvent('popup'),
        dialog.getByRole('button', { name: 'Open' }).click(),
      ]);
      await popup.waitForLoadState();
      expect(await popup.locator('h1').innerText()).toBe('served through the forward');
      await popup.close();
      await expect
        .poll(
          async () =>
            (await host.api.call('forwards.list', {})).find((x) => x.id === f!.id)?.totalConnections,
        )
        .toBeGreaterThan(0);

      await row.getByRole('button', { name: /^Close forward/ }).click();
      await expect.poll(() => page.getByTestId('forward').count()).toBe(0);
    } finally {
      await new Promise((r) => web.close(r));
    }
  });
});
