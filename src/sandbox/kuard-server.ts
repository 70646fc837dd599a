/**
 * The pod's server: a tiny stand-in for kuard (github.com/kubernetes-up-and-running/kuard), run inside a pod's
 * network namespace by `labdeck sandbox _kuard`. `GET /env/api` answers the kuard JSON shape
 * (`{"commandLine":["/kuard"],"env":{…,"HOSTNAME":"<pod>",…}}`, seed section "Pod 간 통신").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';

export interface KuardOptions {
  readonly host: string;
  readonly port: number;
  /** JSON file with the `/env/api` body. */
  readonly responseFile: string;
  /** Written once the server listens. */
  readonly readyFile?: string;
}

export async function startKuard(opts: KuardOptions): Promise<Server> {
  const body = readFileSync(opts.responseFile, 'utf8');
  const env = (JSON.parse(body) as { env: Record<string, string> }).env;
  const hostname = env['HOSTNAME'] ?? 'kuard';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/env/api') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    } else if (req.method === 'GET' && (path === '/healthy' || path === '/ready')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html><head><title>KUAR Demo</title></head><body><h1>KUAR Demo (LabDeck sandbox stand-in)</h1><p>Hostname: <code>${hostname}</code></p><p><a href="/env/api">/env/api</a></p></body></html>\n`,
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  if (opts.readyFile) writeFileSync(opts.readyFile, `${process.pid}\n`);
  return server;
}
