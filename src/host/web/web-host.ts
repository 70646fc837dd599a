import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiServer, Disposable, ServerTransport } from '../../api/server.js';
import { maxMessageChars, type ServerMessage } from '../../api/protocol.js';

export interface WebHostOptions {
  /** Folder of the built renderer (index.html and assets/). */
  readonly rendererDir: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** A fixed token, for tests; by default a fresh random one per launch. */
  readonly token?: string;
  readonly log?: (line: string) => void;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
};

/** Why a request was refused; the reason goes to the log, the client only sees the status. */
export type Refusal = { status: 400 | 403 | 404; reason: string };

/**
 * The web host: serves the built renderer and the API over one WebSocket, on 127.0.0.1 only.
 *
 * Every request and socket must carry the per-launch token as the first path segment (`/t/<token>/…`), so that
 * another local user, or a web page in the user's browser, cannot drive the shells: the token is not in a cookie
 * (cookies are shared between all ports of 127.0.0.1), and the built renderer uses relative asset URLs, so the
 * token rides along on every request. The Host header must name our own address (defeats DNS rebinding) and a
 * WebSocket's Origin must be our own origin.
 */
export class WebHost implements Disposable {
  readonly token: string;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private port = 0;

  constructor(
    private readonly api: ApiServer,
    private readonly options: WebHostOptions,
  ) {
    this.token = options.token ?? randomBytes(32).toString('base64url');
    this.http = createServer((req, res) => {
      // A failure serving one request must never take the host (and every shell in it) down.
      this.serve(req, res).catch((err: unknown) => {
        this.log(`web: ${req.method} failed: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageChars * 4 });
    this.http.on('upgrade', (req, socket, head) => {
      const refusal = this.checkUpgrade(req);
      if (refusal) {
        this.log(`web: socket refused (${refusal.reason})`);
        socket.end(
          `HTTP/1.1 ${refusal.status} ${refusal.status === 403 ? 'Forbidden' : 'Bad Request'}\r\n\r\n`,
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
    return this.url;
  }

  /** The URL to open, token included. It is a secret: print it to the user, log it nowhere else. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/t/${this.token}/`;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private tokenMatches(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Checks Host and token; returns the path below `/t/<token>` or a refusal. */
  checkRequest(req: Pick<IncomingMessage, 'headers' | 'url'>): { rest: string } | Refusal {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${this.port}` && host !== `localhost:${this.port}`) {
      return { status: 403, reason: `Host header "${host}" is not this host` };
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return { status: 400, reason: 'unparseable URL' };
    }
    const match = /^\/t\/([^/]+)(\/.*)?$/.exec(pathname);
    if (!match || !this.tokenMatches(match[1] ?? ''))
      return { status: 403, reason: 'missing or wrong token' };
    const fetchSite = req.headers['sec-fetch-site'];
    if (fetchSite === 'cross-site') return { status: 403, reason: 'cross-site request' };
    return { rest: match[2] ?? '' };
  }

  checkUpgrade(req: Pick<IncomingMessage, 'headers' | 'url'>): Refusal | null {
    const checked = this.checkRequest(req);
    if ('status' in checked) return checked;
    const origin = req.headers.origin;
    if (origin !== `http://127.0.0.1:${this.port}` && origin !== `http://localhost:${this.port}`) {
      return { status: 403, reason: `Origin "${origin ?? '(none)'}" is not this host` };
    }
    if (checked.rest !== '/api') return { status: 404, reason: `no socket at ${checked.rest}` };
    return null;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const checked = this.checkRequest(req);
    if ('status' in checked) {
      this.log(`web: ${req.method} refused (${checked.reason})`);
      res
        .writeHead(checked.status, { 'content-type': 'text/plain; charset=utf-8' })
        .end(
          checked.status === 403
            ? 'LabDeck: this URL needs the token printed when the web host started.\n'
            : 'Bad request\n',
        );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (checked.rest === '') {
      // `/t/<token>` → `/t/<token>/` so that relative asset URLs resolve below the token.
      res.writeHead(308, { location: `/t/${this.token}/` }).end();
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(checked.rest === '/' ? '/index.html' : checked.rest);
    } catch {
      res
        .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Bad request: malformed URL escape\n');
      return;
    }
    const root = path.resolve(this.options.rendererDir);
    const file = path.resolve(root, '.' + relative);
    if (!file.startsWith(root + path.sep) || relative.includes('\0')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
        'content-length': info.size,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'x-frame-options': 'DENY',
        'content-security-policy': [
          "default-src 'self'",
          "script-src 'self'",
          "style-src 'self' 'unsafe-inline'",
          `connect-src 'self' ws://127.0.0.1:${this.port} ws://localhost:${this.port}`,
          "img-src 'self' data:",
          "font-src 'self' data:",
          "object-src 'none'",
          "base-uri 'none'",
          "form-action 'none'",
          "frame-ancestors 'none'",
        ].join('; '),
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
    }
  }

  private attach(ws: WebSocket): void {
    this.sockets.add(ws);
    const transport: ServerTransport = {
      send: (message: ServerMessage) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
      },
      onMessage: (listener) => {
        const handler = (data: Buffer, isBinary: boolean): void => {
          if (!isBinary) listener(data.toString('utf8'));
        };
        ws.on('message', handler);
        return { dispose: () => ws.off('message', handler) };
      },
      onClose: (listener) => {
        ws.on('close', listener);
        return { dispose: () => ws.off('close', listener) };
      },
    };
    ws.on('error', (err) => this.log(`web: socket error: ${err.message}`));
    ws.on('close', () => this.sockets.delete(ws));
    this.api.connect(transport);
  }

  dispose(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    this.http.close();
  }
}
