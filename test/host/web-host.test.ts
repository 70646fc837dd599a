import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ApiServer, EventHub, type Handlers } from '../../src/api/server.js';
import { WebHost } from '../../src/host/web/web-host.js';

/** A raw HTTP GET with full control of the headers (fetch would not let us set Host). */
function get(port: number, pathName: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: pathName, headers: { host: `127.0.0.1:${port}`, ...headers } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

function openSocket(url: string, headers: Record<string, string>) {
  return new Promise<{ opened: boolean; status?: number; ws?: WebSocket }>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve({ opened: true, ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.on('error', () => resolve({ opened: false }));
  });
}

describe('web host', () => {
  let dir: string;
  let host: WebHost;
  let port: number;
  const token = 'test-token-0123456789abcdefghijklmnopqrstuv';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'labdeck-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>LabDeck</title>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), 'outside');
    const handlers = {
      'app.info': () => ({ name: 'LabDeck', version: '0.0.0', host: 'web', platform: 'linux' }),
    } as unknown as Handlers;
    host = new WebHost(new ApiServer(handlers, new EventHub()), { rendererDir: dir, token });
    const url = await host.listen();
    port = Number(new URL(url).port);
    expect(url).toBe(`http://127.0.0.1:${port}/t/${token}/`);
  });

  afterAll(() => {
    host.dispose();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), { force: true });
  });

  it('generates a long random token per launch when none is given', () => {
    const a = new WebHost(new ApiServer({} as Handlers, new EventHub()), { rendererDir: dir });
    const b = new WebHost(new ApiServer({} as Handlers, new EventHub()), { rendererDir: dir });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
  });

  it('serves the renderer below the token path, with a strict CSP', async () => {
    const res = await get(port, `/t/${token}/`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>LabDeck</title>');
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((await get(port, `/t/${token}/assets/app.js`)).status).toBe(200);
  });

  it('refuses every request without the right token', async () => {
    expect((await get(port, '/')).status).toBe(403);
    expect((await get(port, '/index.html')).status).toBe(403);
    expect((await get(port, `/t/${token.slice(0, -1)}x/`)).status).toBe(403);
    expect((await get(port, `/t/${token.slice(0, -1)}/`)).status).toBe(403);
  });

  it('refuses a foreign Host header (DNS rebinding) and cross-site fetches', async () => {
    expect((await get(port, `/t/${token}/`, { host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, `/t/${token}/`, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('does not serve files outside the renderer folder', async () => {
    const res = await get(port, `/t/${token}/..%2f${path.basename(dir)}-secret.txt`);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside');
  });

  it('accepts the API socket only with the token and our own Origin', async () => {
    const url = `ws://127.0.0.1:${port}/t/${token}/api`;
    const good = await openSocket(url, { origin: `http://127.0.0.1:${port}` });
    expect(good.opened).toBe(true);
    const reply = await new Promise<string>((resolve) => {
      good.ws!.once('message', (data) => resolve(String(data)));
      good.ws!.send(JSON.stringify({ t: 'call', id: 1, method: 'app.info', arg: {} }));
    });
    expect(JSON.parse(reply)).toMatchObject({ t: 'result', id: 1, value: { name: 'LabDeck' } });
    good.ws!.close();

    expect(await openSocket(url, { origin: 'http://evil.example' })).toMatchObject({
      opened: false,
      status: 403,
    });
    expect(await openSocket(url, {})).toMatchObject({ opened: false, status: 403 });
    expect(
      await openSocket(`ws://127.0.0.1:${port}/t/wrong/api`, { origin: `http://127.0.0.1:${port}` }),
    ).toMatchObject({ opened: false, status: 403 });
  });

  it('answers a malformed escape with 400 and keeps serving', async () => {
    expect((await get(port, `/t/${token}/%E0%A4%A`)).status).toBe(400);
    expect((await get(port, `/t/${token}/`)).status).toBe(200);
  });

  it('listens on 127.0.0.1 only: another local address of this machine is refused', async () => {
    const { networkInterfaces } = await import('node:os');
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && a.address !== '127.0.0.1');
    const refused = await new Promise<boolean>((resolve) => {
      const req = request({ host: other?.address ?? '127.0.0.2', port, path: `/t/${token}/` }, () =>
        resolve(false),
      );
      req.on('error', () => resolve(true));
      req.setTimeout(2000, () => {
        req.destroy();
        resolve(true);
      });
      req.end();
    });
    expect(refused).toBe(true);
  });
});
