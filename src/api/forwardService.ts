import {
  parseLocalForward,
  SshError,
  type LocalForward,
  type LocalForwardSpec,
  type SshConnection,
  type SshProfile,
} from '../ssh/index.js';
import {
  forwardFields,
  isLoopbackBind,
  type ForwardError,
  type ForwardFields,
  type ForwardInfoView,
  type ForwardState,
} from './forwardContract.js';
import { ApiFailure, describeZodError, type Disposable } from './server.js';

export interface ForwardServiceDeps {
  /** The host's profile, as the SSH terminals resolve it (throws an ApiFailure when it has none). */
  readonly resolveProfile: (destination: string, config: string | undefined) => SshProfile;
  /** A lease on the shared connection for the profile's chain (the factory asks the UI about host keys). */
  readonly connect: (profile: SshProfile) => Promise<SshConnection>;
  /** The whole list, after anything changed (coalesced). */
  readonly onChange: (list: ForwardInfoView[]) => void;
  /** Waits between reconnect attempts after the connection dropped; default 1, 2, 4, 8, 15 s. */
  readonly reconnectDelaysMs?: readonly number[];
  readonly log?: (line: string) => void;
}

export interface OpenForwardRequest {
  readonly destination: string;
  readonly config?: string | undefined;
  readonly forward: string | ForwardFields;
  readonly exposeBeyondLoopback?: boolean | undefined;
}

interface HostEntry {
  readonly key: string;
  readonly destination: string;
  readonly config: string | undefined;
  readonly profile: SshProfile;
  connection: SshConnection | undefined;
  connecting: Promise<SshConnection> | undefined;
  readonly forwards: Set<ForwardEntry>;
  closeSub: Disposable | undefined;
  reconnecting: boolean;
  /** Why the connection is down (while reconnecting, or after giving up). */
  down: ForwardError | undefined;
  /** When the connection was last rebuilt: channel failures from before say nothing about it. */
  upSince: number;
  readonly stop: AbortController;
}

interface ForwardEntry {
  readonly id: string;
  readonly host: HostEntry;
  readonly origin: 'user' | 'ssh_config';
  readonly spec: LocalForwardSpec;
  forward: LocalForward | undefined;
  phase: 'connecting' | 'open' | 'failed';
  error: ForwardError | undefined;
  sub: Disposable | undefined;
  /** Closed by the user while its connection was still being made. */
  cancelled: boolean;
}

const bracket = (h: string): string => (h.includes(':') ? `[${h}]` : h);

/** `host:port`, an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return `${bracket(host)}:${port}`;
}

/** `[bind:]port:host:hostport` as OpenSSH writes it, IPv6 addresses in brackets. */
export function formatForwardSpec(spec: LocalForwardSpec): string {
  return `${hostPort(spec.bindAddress, spec.bindPort)}:${hostPort(spec.remoteHost, spec.remotePort)}`;
}

/**
 * Validates a forward request (OpenSSH syntax or fields) into a spec: ports in range, a loopback bind address
 * unless exposing is asked for explicitly, a remote host that is a hostname or an IP literal.
 */
export function parseForwardRequest(
  forward: string | ForwardFields,
  exposeBeyondLoopback: boolean,
): LocalForwardSpec {
  let fields: unknown = forward;
  if (typeof forward === 'string') {
    // As typed on a command line: `-L8080:localhost:8080` or `-L 8080:localhost:8080`.
    const parsed = parseLocalForward(forward.trim().replace(/^-L\s*/, ''));
    if (typeof parsed === 'string')
      throw new ApiFailure('forward-bad-spec', `${parsed} (for example 8080:localhost:8080)`, forward);
    fields = parsed;
  }
  const checked = forwardFields.safeParse(fields);
  if (!checked.success)
    throw new ApiFailure(
      'forward-bad-spec',
      `bad forward${typeof forward === 'string' ? ` ${JSON.stringify(forward)}` : ''}: ${describeZodError(checked.error)}`,
      typeof forward === 'string' ? forward : 'forward',
    );
  const f = checked.data;
  const bind = f.bindAddress === undefined || f.bindAddress === 'localhost' ? '127.0.0.1' : f.bindAddress;
  if (!isLoopbackBind(bind) && !exposeBeyondLoopback)
    throw new ApiFailure(
      'forward-not-loopback',
      `listening on ${bind} would let other machines that reach this one connect to ${f.remoteHost}:${f.remotePort} ` +
        `through your SSH login. Use 127.0.0.1 (the default), or confirm that you want it reachable from the network.`,
      bind,
    );
  return { bindAddress: bind, bindPort: f.bindPort, remoteHost: f.remoteHost, remotePort: f.remotePort };
}

function listenError(err: unknown, spec: LocalForwardSpec, now: number): ForwardError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const where = hostPort(spec.bindAddress, spec.bindPort);
  if (err instanceof SshError) return sshError(err, now);
  switch (code) {
    case 'EADDRINUSE':
      return {
        code: 'forward-port-in-use',
        message: `${where} is already in use on this machine`,
        where,
        advice:
          'Pick another local port (0 picks a free one), or stop what listens there (`ss -ltnp` shows it).',
        at: now,
      };
    case 'EACCES':
      return {
        code: 'forward-port-denied',
        message: `not allowed to listen on ${where}`,
        where,
        advice: 'Ports below 1024 need privileges; use a port from 1024 up.',
        at: now,
      };
    case 'EADDRNOTAVAIL':
      return {
        code: 'forward-address-unavailable',
        message: `this machine has no address ${spec.bindAddress}`,
        where,
        advice: 'Listen on 127.0.0.1 (the default), or on an address this machine has.',
        at: now,
      };
    default:
      return {
        code: 'forward-listen-failed',
        message: `cannot listen on ${where}: ${(err as Error)?.message ?? String(err)}`,
        where,
        advice: 'Pick another local address or port.',
        at: now,
      };
  }
}

function sshError(err: SshError, now: number): ForwardError {
  const advice: Record<string, string> = {
    'host-key-changed':
      'The host key changed: check with the host owner, then use "replace key" from a terminal.',
    'host-key-unknown':
      'The host key was not accepted: check its fingerprint, then accept it when asked (StrictHostKeyChecking ask) or add it to known_hosts.',
    'auth-failed': 'Check the key or password for this hop (IdentityFile in the SSH config).',
    'connect-failed': 'Check that the host is up and reachable from the hop before it.',
    'closed-by-remote': 'The host closed the connection; check that it is up, then open the forward again.',
    'keepalive-timeout':
      'The host stopped answering; check the network on the way, then open the forward again.',
    'parent-closed': 'A jump host on the way went away; check it, then open the forward again.',
  };
  return {
    code: `ssh-${err.code}`,
    message: err.message,
    where: err.hop,
    advice: advice[err.code] ?? 'Check the SSH connection from a terminal, then open the forward again.',
    at: now,
  };
}

function toFailure(e: ForwardError): ApiFailure {
  return new ApiFailure(e.code, `${e.message}. ${e.advice}`, e.where);
}

/**
 * The app's local forwards, per SSH host: each host's forwards share one lease on the connection the factory
 * keeps for that chain (the same one the host's terminals use), so opening a forward to a host with a terminal
 * opens nothing new, and the last forward closed releases the lease. A dropped connection is rebuilt (host keys
 * verified again) while the local ports stay bound; the state says so ("reconnecting" → "listening").
 */
export class ForwardService implements Disposable {
  private readonly hosts = new Map<string, HostEntry>();
  private nextId = 1;
  private emitTimer: ReturnType<typeof setTimeout> | undefined;
  private trafficTimer: ReturnType<typeof setTimeout> | undefined;
  private lastBytes = '';
  private disposed = false;

  constructor(private readonly deps: ForwardServiceDeps) {}

  list(): ForwardInfoView[] {
    const out: ForwardInfoView[] = [];
    for (const host of this.hosts.values()) for (const f of host.forwards) out.push(this.view(f));
    return out;
  }

  async open(req: OpenForwardRequest): Promise<ForwardInfoView> {
    const spec = parseForwardRequest(req.forward, req.exposeBeyondLoopback ?? false);
    const clash = this.findBound(spec);
    if (clash)
      throw new ApiFailure(
        'forward-exists',
        `a forward already listens on ${hostPort(clash.spec.bindAddress, spec.bindPort)} ` +
          `(to ${clash.spec.remoteHost}:${clash.spec.remotePort} via ${clash.host.destination}). Close it first or pick another port.`,
        clash.id,
      );
    const profile = this.deps.resolveProfile(req.destination, req.config);
    const host = this.hostFor(req.destination, req.config, profile);
    const entry = this.addEntry(host, 'user', spec);
    try {
      const conn = await this.ensureConnected(host);
      if (entry.cancelled)
        throw new ApiFailure('forward-cancelled', 'the forward was closed while connecting');
      await this.listen(entry, conn);
      if (entry.phase === 'failed') throw toFailure(entry.error as ForwardError);
      return this.view(entry);
    } catch (err) {
      this.removeEntry(entry);
      if (err instanceof ApiFailure) throw err;
      throw toFailure(
        err instanceof SshError ? sshError(err, Date.now()) : listenError(err, spec, Date.now()),
      );
    }
  }

  /** The user's "reconnect" on a disconnected forward: one attempt now, its failure as the reply. */
  async reconnect(id: string): Promise<ForwardInfoView> {
    const f = this.find(id);
    const host = f.host;
    if (host.connection && !host.connection.isOpen && !host.reconnecting) {
      try {
        await this.reconnectOnce(host);
      } catch (err) {
        throw toFailure(
          err instanceof SshError ? sshError(err, Date.now()) : listenError(err, f.spec, Date.now()),
        );
      }
    }
    return this.view(f);
  }

  private find(id: string): ForwardEntry {
    for (const host of this.hosts.values()) for (const f of host.forwards) if (f.id === id) return f;
    throw new ApiFailure('forward-not-found', `no forward "${id}" (it may have been closed)`, id);
  }

  close(id: string): void {
    const f = this.find(id);
    f.cancelled = true;
    this.removeEntry(f);
  }

  /**
   * A terminal connected to `destination`: the `LocalForward` lines of its profile are opened as `ssh` would
   * (on a lease of the same shared connection, so nothing is asked again). Failures show in the list.
   */
  async attachProfile(destination: string, config: string | undefined, profile: SshProfile): Promise<void> {
    if (profile.forwards.length === 0 || this.disposed) return;
    const host = this.hostFor(destination, config, profile);
    try {
      await this.ensureConnected(host);
    } catch (err) {
      this.deps.log?.(`forwards for ${destination}: ${(err as Error).message}`);
      this.releaseIfUnused(host);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.emitTimer);
    clearTimeout(this.trafficTimer);
    for (const host of [...this.hosts.values()]) {
      for (const f of [...host.forwards]) {
        f.sub?.dispose();
        f.forward?.dispose();
      }
      host.forwards.clear();
      this.releaseIfUnused(host);
    }
  }

  private findBound(spec: LocalForwardSpec): ForwardEntry | undefined {
    if (spec.bindPort === 0) return undefined;
    for (const host of this.hosts.values())
      for (const f of host.forwards) {
        const actual = f.forward?.info().address?.port ?? f.spec.bindPort;
        if (
          actual === spec.bindPort &&
          sameBind(f.spec.bindAddress, spec.bindAddress) &&
          f.phase !== 'failed'
        )
          return f;
      }
    return undefined;
  }

  private hostFor(destination: string, config: string | undefined, profile: SshProfile): HostEntry {
    const key = JSON.stringify([destination, config ?? null]);
    let host = this.hosts.get(key);
    if (!host) {
      host = {
        key,
        destination,
        config,
        profile,
        connection: undefined,
        connecting: undefined,
        forwards: new Set(),
        closeSub: undefined,
        reconnecting: false,
        down: undefined,
        upSince: 0,
        stop: new AbortController(),
      };
      this.hosts.set(key, host);
    }
    return host;
  }

  private addEntry(host: HostEntry, origin: ForwardEntry['origin'], spec: LocalForwardSpec): ForwardEntry {
    const entry: ForwardEntry = {
      id: `f${this.nextId++}`,
      host,
      origin,
      spec,
      forward: undefined,
      phase: 'connecting',
      error: undefined,
      sub: undefined,
      cancelled: false,
    };
    host.forwards.add(entry);
    this.changed();
    return entry;
  }

  private removeEntry(entry: ForwardEntry): void {
    entry.sub?.dispose();
    entry.forward?.dispose();
    entry.forward = undefined;
    if (entry.host.forwards.delete(entry)) this.changed();
    this.releaseIfUnused(entry.host);
  }

  /** The last forward of a host closed: its lease goes back (the connection closes if no terminal uses it). */
  private releaseIfUnused(host: HostEntry): void {
    if (host.forwards.size > 0 || host.connecting) return;
    if (this.hosts.get(host.key) === host) this.hosts.delete(host.key);
    host.stop.abort();
    host.closeSub?.dispose();
    host.connection?.dispose();
    host.connection = undefined;
  }

  private async ensureConnected(host: HostEntry): Promise<SshConnection> {
    if (host.connection) {
      if (host.connection.isOpen) return host.connection;
      if (host.reconnecting)
        throw new ApiFailure(
          'forward-reconnecting',
          `the connection to ${host.destination} dropped and is being rebuilt; try again once its forwards show "listening"`,
          host.destination,
        );
      await this.reconnectOnce(host);
      return host.connection;
    }
    if (!host.connecting) {
      host.connecting = this.deps.connect(host.profile);
      host.connecting.then(
        (conn) => {
          host.connecting = undefined;
          if (host.stop.signal.aborted || this.disposed) {
            conn.dispose();
            return;
          }
          host.connection = conn;
          host.closeSub = conn.onClose((reason) => void this.reconnectLoop(host, reason));
          void this.openConfigForwards(host, conn);
        },
        () => {
          host.connecting = undefined;
        },
      );
    }
    const conn = await host.connecting;
    if (host.stop.signal.aborted) throw new SshError('disposed', conn.name, 'the forward was closed');
    return conn;
  }

  private async openConfigForwards(host: HostEntry, conn: SshConnection): Promise<void> {
    for (const spec of host.profile.forwards) {
      if (this.findBound(spec)) continue;
      const entry = this.addEntry(host, 'ssh_config', spec);
      await this.listen(entry, conn);
    }
  }

  private async listen(entry: ForwardEntry, conn: SshConnection): Promise<void> {
    try {
      const fwd = await conn.openLocalForward(entry.spec);
      if (entry.cancelled) {
        fwd.dispose();
        return;
      }
      entry.forward = fwd;
      entry.phase = 'open';
      entry.sub = fwd.onChange(() => this.changed());
    } catch (err) {
      entry.phase = 'failed';
      entry.error = listenError(err, entry.spec, Date.now());
    }
    this.changed();
  }

  private async reconnectOnce(host: HostEntry): Promise<void> {
    const conn = host.connection as SshConnection;
    try {
      await conn.reconnect();
      host.down = undefined;
      host.upSince = Date.now();
    } catch (err) {
      if (err instanceof SshError) host.down = sshError(err, Date.now());
      throw err;
    } finally {
      this.changed();
    }
  }

  /** After a drop: a few attempts spaced out; the local ports stay bound meanwhile. */
  private async reconnectLoop(host: HostEntry, reason: SshError): Promise<void> {
    if (host.reconnecting || host.stop.signal.aborted) return;
    host.reconnecting = true;
    host.down = {
      ...sshError(reason, Date.now()),
      advice: 'LabDeck is reconnecting (host keys are verified again); the local port stays open meanwhile.',
    };
    this.changed();
    const delays = this.deps.reconnectDelaysMs ?? [1000, 2000, 4000, 8000, 15000];
    let last: unknown = reason;
    for (const delay of delays) {
      const stopped = await sleep(delay, host.stop.signal);
      if (stopped || !host.connection) return;
      try {
        await host.connection.reconnect();
        host.reconnecting = false;
        host.down = undefined;
        host.upSince = Date.now();
        this.deps.log?.(`forwards to ${host.destination}: reconnected`);
        this.changed();
        return;
      } catch (err) {
        last = err;
        // A refused host key is not going to change by waiting: stop and say so.
        if (err instanceof SshError && err.code.startsWith('host-key')) break;
      }
    }
    host.reconnecting = false;
    const e = last instanceof SshError ? sshError(last, Date.now()) : undefined;
    host.down = {
      code: e?.code ?? 'forward-disconnected',
      message: `the connection to ${host.destination} is down and could not be rebuilt: ${(last as Error)?.message ?? String(last)}`,
      where: e?.where ?? host.destination,
      advice: `${e?.advice ?? 'Check the hosts on the way.'} Opening another forward to this host tries again.`,
      at: Date.now(),
    };
    this.changed();
  }

  private state(f: ForwardEntry): ForwardState {
    if (f.phase === 'connecting') return 'connecting';
    if (f.phase === 'failed') return 'failed';
    if (f.forward?.info().state === 'failed') return 'failed';
    if (f.host.reconnecting) return 'reconnecting';
    if (f.host.down) return 'disconnected';
    return 'listening';
  }

  private view(f: ForwardEntry): ForwardInfoView {
    const info = f.forward?.info();
    const lastConn =
      info?.lastConnectionError && info.lastConnectionError.at >= f.host.upSince
        ? info.lastConnectionError
        : undefined;
    const connection = f.host.connection?.name ?? null;
    const error: ForwardError | undefined =
      f.error ??
      (info?.state === 'failed' && info.error
        ? listenError(new Error(info.error), f.spec, Date.now())
        : undefined) ??
      f.host.down ??
      (lastConn
        ? {
            code: 'forward-remote-failed',
            message: `${connection ?? f.host.destination} could not open a connection to ${f.spec.remoteHost}:${f.spec.remotePort}: ${lastConn.message}`,
            where: `${f.spec.remoteHost}:${f.spec.remotePort}`,
            advice: `Check that something listens on ${f.spec.remoteHost}:${f.spec.remotePort} as seen from ${f.host.destination} (e.g. \`ss -ltn\` there), and that its sshd allows TCP forwarding.`,
            at: lastConn.at,
          }
        : undefined);
    return {
      id: f.id,
      destination: f.host.destination,
      config: f.host.config ?? null,
      origin: f.origin,
      spec: formatForwardSpec(f.spec),
      bindAddress: f.spec.bindAddress,
      bindPort: f.spec.bindPort,
      remoteHost: f.spec.remoteHost,
      remotePort: f.spec.remotePort,
      listening: info?.state === 'listening' && info.address ? info.address : null,
      exposed: !isLoopbackBind(f.spec.bindAddress),
      state: this.state(f),
      connection,
      activeConnections: info?.activeConnections ?? 0,
      totalConnections: info?.totalConnections ?? 0,
      bytesIn: info?.bytesIn ?? 0,
      bytesOut: info?.bytesOut ?? 0,
      error: error ?? null,
    };
  }

  /** Many changes at once (a burst of connections) become one event. */
  private changed(): void {
    if (this.disposed || this.emitTimer) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      if (this.disposed) return;
      const list = this.list();
      this.lastBytes = bytesOf(list);
      this.deps.onChange(list);
      this.scheduleTraffic(list);
    }, 20);
  }

  /** While connections are open, byte counts are sent once a second when they moved (not per chunk). */
  private scheduleTraffic(list: readonly ForwardInfoView[]): void {
    if (this.trafficTimer || !list.some((f) => f.activeConnections > 0)) return;
    this.trafficTimer = setTimeout(() => {
      this.trafficTimer = undefined;
      if (this.disposed) return;
      const now = this.list();
      if (bytesOf(now) !== this.lastBytes) this.changed();
      else this.scheduleTraffic(now);
    }, 1000);
  }
}

function bytesOf(list: readonly ForwardInfoView[]): string {
  return list.map((f) => `${f.id}:${f.bytesIn}:${f.bytesOut}`).join(',');
}

/** Two listeners collide on the same port when their addresses are equal or one is a wildcard. */
function sameBind(a: string, b: string): boolean {
  const wildcard = (x: string): boolean => x === '0.0.0.0' || x === '::';
  return a === b || wildcard(a) || wildcard(b);
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(true);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
