import { spawn, type ChildProcess } from 'node:child_process';
import { Socket, createServer, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import ssh2, {
  type AnyAuthMethod,
  type ClientChannel,
  type ConnectConfig,
  type ExecOptions as ExecOptionsSsh2,
  type ShellOptions,
} from 'ssh2';
import { makeAuthHandler, type SshPrompts } from './auth.js';
import { HostKeyChangedError, SshError } from './errors.js';
import { fingerprintSha256, hostKeyFromBlob, type HostKey } from './hostKey.js';
import { KnownHostsStore, knownKeyTypes, type HostKeyVerdict } from './knownHosts.js';
import type { LocalForwardSpec, SshHop, SshProfile } from './profile.js';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface Disposable {
  dispose(): void;
}

/**
 * Key exchange restricted explicitly: curve25519 first, no `diffie-hellman-group-exchange-*` on any path
 * (GEX costs a round trip and a prime search on the server; it can take seconds).
 */
export const kexAlgorithms = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group14-sha256',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group18-sha512',
] as const;

/** OpenSSH 9's default host key algorithms without SHA-1 `ssh-rsa`. */
const hostKeyAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** Host key algorithms with the types known_hosts already holds for this host first (OpenSSH `order_hostkeyalgs`). */
function orderHostKeyAlgorithms(known: readonly string[]): string[] {
  const first: string[] = [];
  for (const t of known) {
    if (t === 'ssh-rsa') first.push('rsa-sha2-512', 'rsa-sha2-256');
    else if (hostKeyAlgorithms.includes(t)) first.push(t);
  }
  return [...new Set([...first, ...hostKeyAlgorithms])];
}

export function describeHop(hop: SshHop): string {
  const addr =
    hop.transport.kind === 'command' ? `via ${hop.transport.argv[0] ?? ''}` : `${hop.host}:${hop.port}`;
  return `${hop.name} (${hop.user}@${addr})`;
}

function hopKey(hop: SshHop): string {
  return JSON.stringify([
    hop.user,
    hop.host,
    hop.port,
    hop.hostKeyAlias ?? '',
    hop.transport,
    hop.forwardAgent,
  ]);
}

export interface HopCheck {
  readonly hop: string;
  readonly keyType: string | undefined;
  readonly fingerprint: string | undefined;
  readonly status: HostKeyVerdict['status'] | 'not-reached' | 'error';
  readonly detail: string;
}

export interface SshConnectionFactoryDeps {
  readonly prompts: SshPrompts;
  /** Optional log of events (never secrets). */
  readonly log?: (line: string) => void;
  /** Max concurrent sessions per connection (sshd's MaxSessions defaults to 10); more are queued. */
  readonly maxSessionsPerConnection?: number;
}

/** One authenticated SSH connection for one chain prefix, shared by every lease and every child hop. */
class Link {
  refs = 0;
  readonly children = new Set<Link>();
  closed: SshError | undefined;
  private readonly closeListeners = new Set<(reason: SshError) => void>();
  private activeSessions = 0;
  private readonly sessionQueue: (() => void)[] = [];
  inheritedReason: SshError | undefined;
  lastError: Error | undefined;
  endedByUs = false;
  /** What the key exchange settled on (ssh2 'handshake'), for diagnostics and tests. */
  negotiated: { kex: string; serverHostKey: string; cipher: string } | undefined;

  constructor(
    readonly key: string,
    readonly hop: SshHop,
    readonly name: string,
    readonly parent: Link | undefined,
    readonly client: Client,
    private readonly maxSessions: number,
    readonly proxyProcess: ChildProcess | undefined,
  ) {}

  onClose(l: (reason: SshError) => void): Disposable {
    if (this.closed) {
      l(this.closed);
      return { dispose: () => undefined };
    }
    this.closeListeners.add(l);
    return { dispose: () => this.closeListeners.delete(l) };
  }

  markClosed(reason: SshError): void {
    if (this.closed) return;
    this.closed = reason;
    // Children ride on our channels: they die with us, and should say why.
    for (const c of this.children) {
      c.inheritedReason ??= new SshError(
        'parent-closed',
        c.name,
        `${reason.message}; ${c.name} was reached through it`,
        {
          cause: reason,
        },
      );
    }
    for (const l of [...this.closeListeners]) l(reason);
    this.closeListeners.clear();
  }

  /** A session slot: resolves when fewer than maxSessions channels are open on this connection. */
  async acquireSession(): Promise<() => void> {
    while (this.activeSessions >= this.maxSessions) await new Promise<void>((r) => this.sessionQueue.push(r));
    this.activeSessions++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeSessions--;
      for (const wake of this.sessionQueue.splice(0)) wake();
    };
  }

  /** Waits for one session to end (used when the server refuses a channel while others are open). */
  sessionEnded(): Promise<void> {
    return new Promise<void>((r) => this.sessionQueue.push(r));
  }

  get sessionsOpen(): number {
    return this.activeSessions;
  }

  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(this.closed);
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
        if (err)
          return reject(
            new SshError(
              'channel-failed',
              this.name,
              `${this.name} could not open a channel to ${host}:${port}: ${err.message}`,
            ),
          );
        stream.on('error', () => undefined);
        resolve(stream);
      });
    });
  }
}

export interface ExecResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** Exit status, or null when the command died of a signal. */
  readonly code: number | null;
  readonly signal: string | undefined;
}

export interface ExecOptions {
  readonly stdin?: string | Buffer;
  readonly pty?: boolean;
  /** Called as bytes arrive (e.g. for a live panel); the result still holds everything. */
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** Abort: a KILL signal request to the remote process, the channel closed, the result (code null) at once. */
  readonly signal?: AbortSignal;
}

/** An interactive shell channel with a PTY: what a terminal session wraps. */
export interface SshShell extends Disposable {
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  onData(listener: (data: Buffer) => void): Disposable;
  onExit(
    listener: (e: { code: number | null; signal: string | undefined; reason?: SshError }) => void,
  ): Disposable;
  /** Flow control: stop reading from the channel (the SSH window fills, the remote side blocks). */
  pause(): void;
  resume(): void;
  /** RFC 4254 §6.9 signal request, name without "SIG" (OpenSSH ≥ 7.9 delivers it to the session's process). */
  signal(name: string): void;
}

export interface ForwardInfo {
  readonly spec: LocalForwardSpec;
  readonly state: 'listening' | 'closed' | 'failed';
  readonly address: { address: string; port: number } | undefined;
  readonly activeConnections: number;
  /** Connections accepted since the forward opened (including those whose channel failed). */
  readonly totalConnections: number;
  /** Bytes from local clients to the remote target, and back. */
  readonly bytesOut: number;
  readonly bytesIn: number;
  /** Why the listener failed (state `failed`). */
  readonly error: string | undefined;
  /** The last connection whose channel could not be opened (remote refused, connection down), until one opens. */
  readonly lastConnectionError: { readonly message: string; readonly at: number } | undefined;
}

export interface LocalForward extends Disposable {
  info(): ForwardInfo;
  /** Called when a connection is accepted or ends, a channel fails, or the listener fails or closes. */
  onChange(listener: () => void): Disposable;
}

/**
 * The connection factory: resolves a profile's chain hop by hop — connect, verify that hop's host key under
 * that hop's own name, only then authenticate, then `forwardOut` to the next hop and pass the channel as the
 * next client's `sock`. Connections are shared by chain (like ControlMaster) and reference counted.
 */
export class SshConnectionFactory {
  private readonly links = new Map<string, Promise<Link>>();
  private readonly resolved = new Map<string, Link>();

  constructor(private readonly deps: SshConnectionFactoryDeps) {}

  private log(line: string): void {
    this.deps.log?.(line);
  }

  /** A lease on the shared connection for this profile. Dispose it to release the chain. */
  async connect(profile: SshProfile): Promise<SshConnection> {
    const hops = [...profile.jumps, profile.target];
    const link = await this.acquire(hops);
    return new SshConnection(this, profile, hops, link);
  }

  /** Open connections (for tests and the UI's connection list). */
  get openConnectionCount(): number {
    return this.resolved.size;
  }

  private forget(link: Link): void {
    if (this.resolved.get(link.key) !== link) return;
    this.resolved.delete(link.key);
    this.links.delete(link.key);
  }

  /** @internal */
  async acquire(hops: readonly SshHop[]): Promise<Link> {
    const key = hops.map(hopKey).join(' > ');
    const existing = this.links.get(key);
    if (existing) {
      const link = await existing.catch(() => undefined);
      if (link && !link.closed) {
        link.refs++;
        return link;
      }
      if (this.links.get(key) === existing) this.links.delete(key);
    }
    const pending = this.open(key, hops);
    this.links.set(key, pending);
    try {
      const link = await pending;
      link.refs++;
      return link;
    } catch (err) {
      if (this.links.get(key) === pending) this.links.delete(key);
      throw err;
    }
  }

  /** @internal */
  release(link: Link): void {
    if (--link.refs > 0) return;
    this.forget(link);
    link.endedByUs = true;
    if (!link.closed)
      link.markClosed(new SshError('disposed', link.name, `connection to ${link.name} was closed`));
    link.client.end();
    link.proxyProcess?.kill();
    if (link.parent) {
      link.parent.children.delete(link);
      this.release(link.parent);
    }
  }

  private async open(key: string, hops: readonly SshHop[]): Promise<Link> {
    const hop = hops[hops.length - 1] as SshHop;
    const name = describeHop(hop);
    let parent: Link | undefined;
    let sock: Duplex | Socket;
    let proxyProcess: ChildProcess | undefined;
    if (hops.length > 1) {
      parent = await this.acquire(hops.slice(0, -1));
      try {
        sock = await parent.forwardOut(hop.host, hop.port);
      } catch (err) {
        this.release(parent);
        throw err;
      }
    } else if (hop.transport.kind === 'command') {
      const [cmd, ...args] = hop.transport.argv;
      // No shell: argv was split from the config and our parameters are substituted per argument.
      proxyProcess = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      proxyProcess.on('error', () => undefined);
      proxyProcess.stdin?.on('error', () => undefined);
      proxyProcess.stdout?.on('error', () => undefined);
      proxyProcess.stderr?.resume();
      sock = Duplex.from({ readable: proxyProcess.stdout, writable: proxyProcess.stdin });
      sock.on('error', () => undefined);
    } else {
      sock = await tcpConnect(hop, name);
    }
    const known = new KnownHostsStore(hop.knownHostsFiles);
    const keyName = hop.hostKeyAlias ?? hop.host;
    const keyPort = hop.hostKeyAlias ? 22 : hop.port;
    const { entries } = await known.load().catch(() => ({ entries: [] }));
    const client = new Client();
    let verifyFailure: SshError | undefined;
    let accepted = false;
    const tried: string[] = [];
    const config: ConnectConfig = {
      sock: sock as unknown as ConnectConfig['sock'],
      username: hop.user,
      readyTimeout: hop.connectTimeoutMs,
      keepaliveInterval: hop.keepalive.intervalMs,
      keepaliveCountMax: hop.keepalive.countMax,
      algorithms: {
        kex: [...kexAlgorithms],
        serverHostKey: orderHostKeyAlgorithms(knownKeyTypes(entries, keyName, keyPort)) as never,
      },
      hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
        this.verifyHostKey(hop, name, known, keyName, keyPort, blob).then(
          () => {
            accepted = true;
            verify(true);
          },
          (err: SshError) => {
            verifyFailure = err;
            verify(false);
          },
        );
      },
      authHandler: (methodsLeft, partial, next) => {
        // Belt and braces: ssh2 only starts authentication after the verifier accepted the key.
        if (!accepted) return next(false as never);
        makeAuthHandlerOnce(methodsLeft, partial, next as (m: AnyAuthMethod | false) => void);
      },
    };
    const makeAuthHandlerOnce = makeAuthHandler(hop, name, this.deps.prompts, tried);
    if (hop.forwardAgent) {
      const agent = hop.auth.find((a) => a.kind === 'agent');
      const agentSock = agent?.kind === 'agent' ? agent.socket : process.env.SSH_AUTH_SOCK;
      if (agentSock) {
        config.agent = agentSock;
        config.agentForward = true;
      } else this.log(`ForwardAgent is set for ${name} but there is no agent (SSH_AUTH_SOCK is not set)`);
    }
    const link = new Link(
      key,
      hop,
      name,
      parent,
      client,
      this.deps.maxSessionsPerConnection ?? 10,
      proxyProcess,
    );
    parent?.children.add(link);
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        client.on('error', (err: Error & { level?: string }) => {
          link.lastError = err;
          if (settled) return;
          settled = true;
          if (verifyFailure) return reject(verifyFailure);
          if (err.level === 'client-authentication')
            return reject(
              new SshError(
                'auth-failed',
                name,
                `authentication to ${name} failed (tried: ${tried.join(', ') || 'nothing usable'})`,
              ),
            );
          reject(
            new SshError('connect-failed', name, `cannot connect to ${name}: ${err.message}`, { cause: err }),
          );
        });
        client.on('close', () => {
          if (!settled) {
            settled = true;
            reject(
              verifyFailure ??
                link.inheritedReason ??
                new SshError('closed-by-remote', name, `connection to ${name} closed by remote during setup`),
            );
          }
        });
        client.on('handshake', (n) => {
          link.negotiated = { kex: n.kex, serverHostKey: n.serverHostKey, cipher: n.cs.cipher };
        });
        client.on('ready', () => {
          settled = true;
          resolve();
        });
        client.connect(config);
      });
    } catch (err) {
      parent?.children.delete(link);
      client.end();
      proxyProcess?.kill();
      if (parent) this.release(parent);
      throw err;
    }
    client.on('close', () => {
      if (link.endedByUs) return;
      const err = link.lastError as (Error & { level?: string }) | undefined;
      const finish = (): void => {
        if (link.inheritedReason) return link.markClosed(link.inheritedReason);
        if (err?.level === 'client-timeout')
          return link.markClosed(
            new SshError(
              'keepalive-timeout',
              name,
              `connection to ${name} timed out: no reply to ${hop.keepalive.countMax} keepalives every ${hop.keepalive.intervalMs} ms`,
            ),
          );
        link.markClosed(new SshError('closed-by-remote', name, `connection to ${name} closed by remote`));
      };
      // When a hop freezes, the hops behind it may time out first; give the parent one keepalive interval
      // to report, so the message names the hop that actually died. A clean close is reported at once.
      if (err?.level === 'client-timeout' && link.parent && !link.parent.closed && !link.inheritedReason) {
        const timer = setTimeout(finish, link.parent.hop.keepalive.intervalMs);
        link.parent.onClose(() => {
          clearTimeout(timer);
          finish();
        });
      } else finish();
      this.forget(link);
    });
    this.resolved.set(key, link);
    this.log(`connected ${name}`);
    return link;
  }

  private async verifyHostKey(
    hop: SshHop,
    name: string,
    known: KnownHostsStore,
    keyName: string,
    keyPort: number,
    blob: Buffer,
  ): Promise<void> {
    const key = hostKeyFromBlob(blob);
    if (!key) throw new SshError('host-key-rejected', name, `${name} presented an unreadable host key`);
    const fp = fingerprintSha256(blob);
    const verdict = await known.judge(keyName, keyPort, key);
    switch (verdict.status) {
      case 'trusted':
        return;
      case 'revoked':
        throw new SshError(
          'host-key-revoked',
          name,
          `${name} presented ${key.type} key ${fp}, which is marked @revoked (${verdict.entry.file}:${verdict.entry.line}). Refusing to connect.`,
        );
      case 'unreadable':
        throw new SshError(
          'known-hosts-unreadable',
          name,
          `cannot check the host key of ${name}: ${verdict.problems.join('; ')}. Refusing to connect (fix or move the file).`,
        );
      case 'changed':
        throw new HostKeyChangedError(
          name,
          keyName,
          keyPort,
          key,
          fp,
          verdict.known,
          verdict.known.map((e) => fingerprintSha256(e.key.blob)),
          hop.knownHostsFiles,
        );
      case 'unknown': {
        const otherTypes = verdict.otherTypes.map((e) => e.key.type);
        const notes = verdict.notes?.length ? ` Note: ${verdict.notes.join('; ')}.` : '';
        // With other key types known we never accept silently (OpenSSH warns there too).
        if (hop.hostKeyPolicy === 'accept-new' && otherTypes.length === 0) {
          await known.add(keyName, keyPort, key, hop.hashKnownHosts);
          this.log(`accepted new host key for ${name}: ${key.type} ${fp}`);
          return;
        }
        if (hop.hostKeyPolicy === 'yes')
          throw new SshError(
            'host-key-unknown',
            name,
            `${name} is not in known_hosts (${key.type} ${fp}) and StrictHostKeyChecking is yes. Refusing to connect.${notes}`,
          );
        const decision = await this.deps.prompts.hostKey({
          hop: name,
          host: keyName,
          port: keyPort,
          keyType: key.type,
          fingerprint: fp,
          otherKnownTypes: otherTypes,
        });
        if (decision === 'reject')
          throw new SshError(
            'host-key-unknown',
            name,
            `host key of ${name} (${key.type} ${fp}) was not accepted`,
          );
        if (decision === 'accept-and-remember') await known.add(keyName, keyPort, key, hop.hashKnownHosts);
        return;
      }
    }
  }

  /** The explicit "replace key" action after a `HostKeyChangedError`. */
  async replaceHostKey(err: HostKeyChangedError): Promise<void> {
    // The new line is hashed when the lines it replaces were (HashKnownHosts), so no host name appears in clear.
    const hashed = err.known.some((e) => e.hosts.kind === 'hashed');
    await new KnownHostsStore(err.knownHostsFiles).replace(
      err.host,
      err.port,
      err.presented,
      err.known,
      hashed,
    );
  }

  /**
   * `labdeck ssh --check`: each hop's host key and whether it is trusted. Hops before the last are
   * connected (and authenticated) only if their key is trusted; the probed hop gets no credentials.
   */
  async check(profile: SshProfile): Promise<HopCheck[]> {
    const hops = [...profile.jumps, profile.target];
    const out: HopCheck[] = [];
    let parent: Link | undefined;
    try {
      for (let i = 0; i < hops.length; i++) {
        const hop = hops[i] as SshHop;
        const name = describeHop(hop);
        const probe = await this.probeHostKey(hop, name, parent).catch((e: Error) => e);
        if (probe instanceof Error) {
          out.push({
            hop: name,
            keyType: undefined,
            fingerprint: undefined,
            status: 'error',
            detail: probe.message,
          });
          break;
        }
        const { key, verdict } = probe;
        const fp = fingerprintSha256(key.blob);
        out.push({
          hop: name,
          keyType: key.type,
          fingerprint: fp,
          status: verdict.status,
          detail: describeVerdict(verdict),
        });
        if (verdict.status !== 'trusted' || i === hops.length - 1) {
          for (const rest of hops.slice(i + 1))
            out.push({
              hop: describeHop(rest),
              keyType: undefined,
              fingerprint: undefined,
              status: 'not-reached',
              detail: 'not reached',
            });
          break;
        }
        const next = await this.acquire(hops.slice(0, i + 1));
        if (parent) this.release(parent);
        parent = next;
      }
    } finally {
      if (parent) this.release(parent);
    }
    return out;
  }

  private async probeHostKey(
    hop: SshHop,
    name: string,
    parent: Link | undefined,
  ): Promise<{ key: HostKey; verdict: HostKeyVerdict }> {
    let sock: Duplex | Socket;
    let proc: ChildProcess | undefined;
    if (parent) sock = await parent.forwardOut(hop.host, hop.port);
    else if (hop.transport.kind === 'command') {
      const [cmd, ...args] = hop.transport.argv;
      proc = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'ignore'] });
      proc.on('error', () => undefined);
      proc.stdin?.on('error', () => undefined);
      proc.stdout?.on('error', () => undefined);
      sock = Duplex.from({ readable: proc.stdout, writable: proc.stdin });
      sock.on('error', () => undefined);
    } else sock = await tcpConnect(hop, name);
    const known = new KnownHostsStore(hop.knownHostsFiles);
    const keyName = hop.hostKeyAlias ?? hop.host;
    const keyPort = hop.hostKeyAlias ? 22 : hop.port;
    const { entries } = await known.load().catch(() => ({ entries: [] }));
    const client = new Client();
    try {
      return await new Promise((resolve, reject) => {
        client.on('error', (e) =>
          reject(new SshError('connect-failed', name, `cannot reach ${name}: ${e.message}`)),
        );
        client.on('close', () =>
          reject(new SshError('closed-by-remote', name, `connection to ${name} closed by remote`)),
        );
        client.connect({
          sock: sock as unknown as ConnectConfig['sock'],
          username: hop.user,
          readyTimeout: hop.connectTimeoutMs,
          algorithms: {
            kex: [...kexAlgorithms],
            serverHostKey: orderHostKeyAlgorithms(knownKeyTypes(entries, keyName, keyPort)) as never,
          },
          hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
            const key = hostKeyFromBlob(blob);
            if (!key) {
              verify(false);
              return reject(
                new SshError('host-key-rejected', name, `${name} presented an unreadable host key`),
              );
            }
            known.judge(keyName, keyPort, key).then(
              (verdict) => {
                resolve({ key, verdict });
                verify(false); // a probe never authenticates
              },
              (e: Error) => reject(e),
            );
          },
          authHandler: (_l, _p, next) => next(false as never),
        });
      });
    } finally {
      client.end();
      proc?.kill();
    }
  }
}

/**
 * A `signal` channel request (RFC 4254 §6.9). ssh2's `channel.signal()` sends nothing once our side has sent
 * EOF (it checks `writable`; the channel's state is then "eof"), yet an exec whose stdin we ended is exactly what an abort must reach; the request
 * is legal on an open channel after EOF, so it is sent through the channel's protocol in that case.
 */
function signalChannel(stream: ClientChannel, name: string): void {
  const ch = stream as ClientChannel & {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  try {
    if (stream.writable) stream.signal(name);
    else if (ch.outgoing?.state === 'open' || ch.outgoing?.state === 'eof')
      ch._client?._protocol?.signal(ch.outgoing.id, name);
  } catch {
    // the connection is going away; closing the channel follows
  }
}

function describeVerdict(v: HostKeyVerdict): string {
  switch (v.status) {
    case 'trusted':
      return `trusted (${v.entry.file}:${v.entry.line})`;
    case 'revoked':
      return `REVOKED (${v.entry.file}:${v.entry.line})`;
    case 'changed':
      return `CHANGED: known_hosts has ${v.known.map((e) => `${fingerprintSha256(e.key.blob)} at ${e.file}:${e.line}`).join(', ')}`;
    case 'unknown':
      return v.otherTypes.length
        ? `unknown (other key types known: ${v.otherTypes.map((e) => e.key.type).join(', ')})`
        : 'unknown (not in known_hosts)';
    case 'unreadable':
      return `known_hosts unreadable: ${v.problems.join('; ')}`;
  }
}

function tcpConnect(hop: SshHop, name: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(
        new SshError(
          'connect-failed',
          name,
          `cannot connect to ${name}: timed out after ${hop.connectTimeoutMs} ms`,
        ),
      );
    }, hop.connectTimeoutMs);
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new SshError('connect-failed', name, `cannot connect to ${name}: ${err.message}`));
    });
    sock.connect({ host: hop.host, port: hop.port }, () => {
      clearTimeout(timer);
      // Nagle + delayed ACK costs ~40 ms per round trip on small SSH packets.
      sock.setNoDelay(true);
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      resolve(sock);
    });
  });
}

/**
 * A lease on a shared chain connection: exec, shells, channels, local forwards. `reconnect()` rebuilds a dead
 * chain (keys verified again, nothing re-run); forwards keep listening across it.
 */
export class SshConnection implements Disposable {
  private disposed = false;
  private readonly closeListeners = new Set<(reason: SshError) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly localForwards = new Set<LocalForwardImpl>();
  private linkSub: Disposable;

  constructor(
    private readonly factory: SshConnectionFactory,
    readonly profile: SshProfile,
    private readonly hops: readonly SshHop[],
    private link: Link,
  ) {
    this.linkSub = link.onClose((r) => this.emitClose(r));
  }

  get name(): string {
    return this.link.name;
  }

  get closeReason(): SshError | undefined {
    return this.link.closed;
  }

  /** Per hop, outermost first: the algorithms each key exchange settled on. */
  get negotiated(): { hop: string; kex: string; serverHostKey: string; cipher: string }[] {
    const out: { hop: string; kex: string; serverHostKey: string; cipher: string }[] = [];
    for (let l: Link | undefined = this.link; l; l = l.parent)
      if (l.negotiated) out.unshift({ hop: l.name, ...l.negotiated });
    return out;
  }

  get isOpen(): boolean {
    return !this.disposed && !this.link.closed;
  }

  onClose(listener: (reason: SshError) => void): Disposable {
    this.closeListeners.add(listener);
    return { dispose: () => this.closeListeners.delete(listener) };
  }

  private emitClose(reason: SshError): void {
    if (this.disposed || reason.code === 'disposed') return;
    for (const l of [...this.closeListeners]) l(reason);
  }

  async reconnect(): Promise<void> {
    if (this.disposed) throw new SshError('disposed', this.name, 'connection was disposed');
    if (!this.link.closed) return;
    const fresh = await this.factory.acquire(this.hops);
    this.linkSub.dispose();
    const old = this.link;
    this.link = fresh;
    this.linkSub = fresh.onClose((r) => this.emitClose(r));
    this.factory.release(old);
    // Shells are not restored here: their owners (terminal sessions) open new ones; no command is re-run.
    for (const l of [...this.reconnectListeners]) l();
  }

  /** After a successful `reconnect()`: the cue for terminals to open a fresh shell on the new chain. */
  onReconnect(listener: () => void): Disposable {
    this.reconnectListeners.add(listener);
    return { dispose: () => this.reconnectListeners.delete(listener) };
  }

  private usable(): Link {
    if (this.disposed) throw new SshError('disposed', this.name, 'connection was disposed');
    if (this.link.closed) throw this.link.closed;
    return this.link;
  }

  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return this.usable().forwardOut(host, port);
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const link = this.usable();
    // sshd refuses sessions beyond its MaxSessions, and frees a slot a little after the channel closes:
    // a refusal while other sessions are open means "wait for one to end and retry", not failure.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.execOnce(link, command, opts);
      } catch (err) {
        const retry =
          err instanceof SshError &&
          err.code === 'channel-failed' &&
          /open failed/.test(err.message) &&
          attempt < 20;
        if (!retry || link.closed) throw err;
        if (link.sessionsOpen > 0) await link.sessionEnded();
        else await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
      }
    }
  }

  private async execOnce(link: Link, command: string, opts: ExecOptions): Promise<ExecResult> {
    const release = await link.acquireSession();
    try {
      return await new Promise<ExecResult>((resolve, reject) => {
        if (link.closed) return reject(link.closed);
        const execOpts = { agentForward: link.hop.forwardAgent, ...(opts.pty ? { pty: true } : {}) };
        link.client.exec(command, execOpts, (err, stream) => {
          if (err)
            return reject(
              new SshError('channel-failed', link.name, `exec on ${link.name} failed: ${err.message}`),
            );
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | null = null;
          let signal: string | undefined;
          const closeSub = link.onClose((r) => reject(r));
          // Abort: ask the server to KILL the command and close the channel, and answer at once. Servers may
          // refuse the signal (OpenSSH 9.2 in our test namespaces logs "session signalling requires privilege
          // separation"); then the command runs on until it ends, but the caller is not kept waiting.
          const onAbort = (): void => {
            signalChannel(stream, 'KILL');
            stream.close();
            closeSub.dispose();
            resolve({
              stdout: Buffer.concat(out),
              stderr: Buffer.concat(errOut),
              code: null,
              signal: 'KILL',
            });
          };
          opts.signal?.addEventListener('abort', onAbort, { once: true });
          if (opts.signal?.aborted) onAbort();
          stream.on('error', () => undefined);
          stream.stderr.on('error', () => undefined);
          stream.on('data', (d: Buffer) => {
            out.push(d);
            opts.onStdout?.(d);
          });
          stream.stderr.on('data', (d: Buffer) => {
            errOut.push(d);
            opts.onStderr?.(d);
          });
          stream.on('exit', (c: number | null, sig?: string) => {
            code = c;
            signal = sig ?? undefined;
          });
          stream.on('close', () => {
            closeSub.dispose();
            opts.signal?.removeEventListener('abort', onAbort);
            if (link.closed && code === null && signal === undefined) return reject(link.closed);
            resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(errOut), code, signal });
          });
          if (opts.stdin !== undefined) stream.end(opts.stdin);
          else stream.end();
        });
      });
    } finally {
      release();
    }
  }

  /**
   * An interactive channel with a PTY: the user's login shell (a `shell` request), or, with `command`, an
   * `exec` request with a PTY (how a terminal starts bash with its hooks without installing anything).
   */
  async openShell(opts: {
    cols: number;
    rows: number;
    term?: string;
    env?: Record<string, string>;
    command?: string;
  }): Promise<SshShell> {
    const link = this.usable();
    const release = await link.acquireSession();
    const pty = { term: opts.term ?? 'xterm-256color', cols: opts.cols, rows: opts.rows };
    return await new Promise<SshShell>((resolve, reject) => {
      const done = (err: Error | undefined, stream: ClientChannel): void => {
        if (err) {
          release();
          return reject(
            new SshError('channel-failed', link.name, `shell on ${link.name} failed: ${err.message}`),
          );
        }
        resolve(new ShellImpl(stream, link, release));
      };
      if (link.closed) {
        release();
        return reject(link.closed);
      }
      if (opts.command !== undefined)
        link.client.exec(
          opts.command,
          { pty, env: opts.env, agentForward: link.hop.forwardAgent } as ExecOptionsSsh2,
          done,
        );
      // ssh2 honours agentForward on shell options (client.js), its typings omit it.
      else
        link.client.shell(pty, { agentForward: link.hop.forwardAgent, env: opts.env } as ShellOptions, done);
    });
  }

  /** `-L`: listens locally (127.0.0.1 unless the spec says otherwise), each connection a direct-tcpip channel. */
  async openLocalForward(spec: LocalForwardSpec): Promise<LocalForward> {
    this.usable();
    const fwd = new LocalForwardImpl(
      spec,
      (h, p) => this.forwardOut(h, p),
      () => this.localForwards.delete(fwd),
    );
    this.localForwards.add(fwd);
    try {
      await fwd.listen();
    } catch (err) {
      fwd.dispose();
      throw err;
    }
    return fwd;
  }

  listForwards(): ForwardInfo[] {
    return [...this.localForwards].map((f) => f.info());
  }

  dispose(): void {
    if (this.disposed) return;
    for (const f of [...this.localForwards]) f.dispose();
    this.disposed = true;
    this.linkSub.dispose();
    this.closeListeners.clear();
    this.reconnectListeners.clear();
    this.factory.release(this.link);
  }
}

class ShellImpl implements SshShell {
  private readonly dataListeners = new Set<(d: Buffer) => void>();
  private readonly exitListeners = new Set<
    (e: { code: number | null; signal: string | undefined; reason?: SshError }) => void
  >();
  private code: number | null = null;
  private exitSignal: string | undefined;
  private closeSub: Disposable;

  constructor(
    private readonly stream: ClientChannel,
    link: Link,
    release: () => void,
  ) {
    let reason: SshError | undefined;
    this.closeSub = link.onClose((r) => (reason = r));
    stream.on('error', () => undefined);
    stream.stderr.on('error', () => undefined);
    stream.on('data', (d: Buffer) => this.dataListeners.forEach((l) => l(d)));
    stream.stderr.on('data', (d: Buffer) => this.dataListeners.forEach((l) => l(d)));
    stream.on('exit', (c: number | null, sig?: string) => {
      this.code = c;
      this.exitSignal = sig ?? undefined;
    });
    stream.on('close', () => {
      release();
      this.closeSub.dispose();
      const e = { code: this.code, signal: this.exitSignal, reason: reason ?? link.closed };
      this.exitListeners.forEach((l) => l(e));
    });
  }

  write(data: string | Buffer): void {
    this.stream.write(data);
  }
  resize(cols: number, rows: number): void {
    this.stream.setWindow(rows, cols, 0, 0);
  }
  onData(listener: (data: Buffer) => void): Disposable {
    this.dataListeners.add(listener);
    return { dispose: () => this.dataListeners.delete(listener) };
  }
  onExit(
    listener: (e: { code: number | null; signal: string | undefined; reason?: SshError }) => void,
  ): Disposable {
    this.exitListeners.add(listener);
    return { dispose: () => this.exitListeners.delete(listener) };
  }
  pause(): void {
    this.stream.pause();
  }
  resume(): void {
    this.stream.resume();
  }
  signal(name: string): void {
    signalChannel(this.stream, name);
  }
  dispose(): void {
    this.stream.close();
  }
}

class LocalForwardImpl implements LocalForward {
  private server: Server | undefined;
  private state: ForwardInfo['state'] = 'closed';
  private error: string | undefined;
  private readonly sockets = new Set<Socket>();
  private totalConnections = 0;
  private bytesOut = 0;
  private bytesIn = 0;
  private lastConnectionError: ForwardInfo['lastConnectionError'];
  private readonly changeListeners = new Set<() => void>();

  constructor(
    readonly spec: LocalForwardSpec,
    private readonly open: (host: string, port: number) => Promise<ClientChannel>,
    private readonly onDispose: () => void,
  ) {}

  onChange(listener: () => void): Disposable {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) l();
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.accept(sock));
      this.server = server;
      server.once('error', (err) => {
        this.state = 'failed';
        this.error = err.message;
        reject(
          Object.assign(
            new Error(`cannot listen on ${this.spec.bindAddress}:${this.spec.bindPort}: ${err.message}`),
            { code: (err as NodeJS.ErrnoException).code },
          ),
        );
      });
      server.listen(this.spec.bindPort, this.spec.bindAddress, () => {
        this.state = 'listening';
        server.on('error', (err) => {
          this.state = 'failed';
          this.error = err.message;
          this.changed();
        });
        resolve();
      });
    });
  }

  private accept(sock: Socket): void {
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    this.sockets.add(sock);
    this.totalConnections++;
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.changed();
    });
    sock.pause();
    this.changed();
    // The current link at the moment of the connection: after a reconnect this is the new one. While the link
    // is down the opener throws at once (SshConnection.usable): that must close this socket, not escape from
    // the server's connection handler as an uncaught exception.
    Promise.resolve()
      .then(() => this.open(this.spec.remoteHost, this.spec.remotePort))
      .then(
        (ch) => {
          ch.on('error', () => undefined);
          // The client gave up while the channel was being opened.
          if (sock.destroyed) return ch.close();
          // The path works again: an older failure no longer describes this forward.
          this.lastConnectionError = undefined;
          sock.on('data', (d: Buffer) => (this.bytesOut += d.length));
          ch.on('data', (d: Buffer) => (this.bytesIn += d.length));
          sock.pipe(ch).pipe(sock);
          sock.on('close', () => ch.close());
          ch.on('close', () => sock.destroy());
          sock.resume();
        },
        (err: Error) => {
          this.lastConnectionError = { message: err.message, at: Date.now() };
          sock.destroy();
        },
      );
  }

  info(): ForwardInfo {
    const a = this.server?.address();
    return {
      spec: this.spec,
      state: this.state,
      address: a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined,
      activeConnections: this.sockets.size,
      totalConnections: this.totalConnections,
      bytesOut: this.bytesOut,
      bytesIn: this.bytesIn,
      error: this.error,
      lastConnectionError: this.lastConnectionError,
    };
  }

  dispose(): void {
    if (this.state !== 'failed') this.state = 'closed';
    for (const s of this.sockets) s.destroy();
    this.server?.close();
    this.server = undefined;
    this.onDispose();
    this.changed();
    this.changeListeners.clear();
  }
}
