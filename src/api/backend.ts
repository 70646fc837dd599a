import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiFailure, ApiServer, EventHub, type Disposable, type Handlers } from './server.js';
import { TerminalManager, type TerminalSession } from '../terminal/index.js';
import { SnapshotService } from './snapshotService.js';
import { UiSshPrompts } from './sshPrompts.js';
import { defaultSshConfigEnv, resolveProfile, SshConnectionFactory, SshError } from '../ssh/index.js';
import { expandHome, listSshHosts } from './sshHosts.js';
import { dataDir, packageRoot } from './paths.js';
import { LabService, type OpenLabTerminal } from './labService.js';
import { ForwardService } from './forwardService.js';
import { KubeService } from './kubeService.js';

export interface BackendOptions {
  readonly host: 'electron' | 'web';
  readonly version: string;
  /** Opens an http(s) URL in the user's browser; the host decides how. */
  readonly openExternal: (url: string) => Promise<void>;
  /** Where recordings and state go; default `$LABDECK_DATA_DIR`, else `$XDG_DATA_HOME/labdeck`. */
  readonly dataDir?: string;
  /** The app's own labs; default `labs/` of the package. */
  readonly labsDir?: string;
  readonly log?: (line: string) => void;
  /** Waits between a forward's automatic reconnect attempts (default in ForwardService: 1, 2, 4, 8, 15 s). */
  readonly forwardReconnectDelaysMs?: readonly number[];
}

export interface Backend extends Disposable {
  readonly api: ApiServer;
  readonly hub: EventHub;
  readonly terminals: TerminalManager;
  readonly snapshot: SnapshotService;
  readonly labs: LabService;
  readonly forwards: ForwardService;
  readonly kube: KubeService;
}

/** Only web links leave the app: no file:, javascript: or custom schemes. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** An SSH failure as error data: its stable code (`host-key-changed`, `auth-failed`, …) and the hop it names. */
function sshFailure(err: unknown, where: string): ApiFailure {
  if (err instanceof ApiFailure) return err;
  if (err instanceof SshError) return new ApiFailure(`ssh-${err.code}`, err.message, err.hop);
  return new ApiFailure('ssh-failed', (err as Error)?.message ?? String(err), where);
}

/** Wires the services to the API contract. Both hosts call this; nothing here knows which host it runs in. */
export function createBackend(options: BackendOptions): Backend {
  const hub = new EventHub();
  const terminals = new TerminalManager();
  const snapshot = new SnapshotService((view) => hub.emit('snapshot.changed', view));
  const localNode = os.hostname();
  const data = options.dataDir ?? dataDir();
  // Defined below (it needs the terminal wiring); the lab service calls it only once a session starts.
  let openLabTerminal: OpenLabTerminal = async () => undefined;
  const labs = new LabService({
    openTerminal: (binding) => openLabTerminal(binding),
    labsDir: options.labsDir ?? path.join(packageRoot(), 'labs'),
    dataDir: data,
    snapshot,
    events: {
      command: (view) => hub.emit('labs.command', view),
      check: (event) => hub.emit('labs.check', event),
      step: (event) => hub.emit('labs.step', event),
      confirm: (request) => hub.emit('labs.confirm', request),
    },
  });
  const wired = new Map<string, Disposable[]>();
  const sshPrompts = new UiSshPrompts((request) => hub.emit('ssh.prompt', request));
  const ssh = new SshConnectionFactory({ prompts: sshPrompts });
  const kube = new KubeService({
    snapshot,
    ssh,
    onStatus: (status) => hub.emit('kube.state', status),
    ...(options.log ? { log: options.log } : {}),
  });
  /** The machine each terminal's commands run on, for the snapshot (`node` of a capture). */
  const nodeOf = new Map<string, string>();

  const session = (id: string): TerminalSession => {
    const found = terminals.get(id);
    if (!found)
      throw new ApiFailure('terminal-not-found', `no terminal "${id}" (it may have been closed)`, id);
    return found;
  };

  const wire = (s: TerminalSession, node: string): void => {
    const id = s.id;
    nodeOf.set(id, node);
    wired.set(id, [
      s.onData((data) => {
        hub.emit('terminal.data', { id, data });
        // Nobody is watching (no renderer attached): acknowledge at once so the shell is never held back.
        if (hub.listenerCount('terminal.data') === 0) s.acknowledge(data.length);
      }),
      s.onInfo((info) => hub.emit('terminal.info', info)),
      s.onExit((exit) => hub.emit('terminal.exit', { id, exit })),
      s.onBlock((block) => {
        hub.emit('terminal.block', { id, block });
        // Commands typed by hand count too: what the parsers recognise joins the snapshot.
        if (block.exitCode === 0 && !block.truncated && block.output.trim() !== '') {
          snapshot.add({ text: block.output, command: block.command, node, origin: 'terminal' });
        }
      }),
    ]);
  };

  const unwire = (id: string): void => {
    for (const d of wired.get(id) ?? []) d.dispose();
    wired.delete(id);
    nodeOf.delete(id);
  };

  /** The profile for a destination, as every SSH user of the app resolves it (terminals, forwards). */
  const sshProfile = (destination: string, config: string | undefined) => {
    const { profile, diagnostics } = resolveProfile(
      destination,
      defaultSshConfigEnv(config ? expandHome(config) : undefined),
    );
    if (!profile) {
      const why = diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
      throw new ApiFailure(
        'ssh-config',
        `cannot reach ${destination}: ${why.join('; ') || 'no usable profile'}`,
        destination,
      );
    }
    return profile;
  };

  // Local forwards ride on the same shared connections as the terminals (the factory keys them by chain).
  const forwards = new ForwardService({
    resolveProfile: sshProfile,
    connect: (profile) => ssh.connect(profile),
    onChange: (list) => hub.emit('forwards.changed', list),
    ...(options.log ? { log: options.log } : {}),
    ...(options.forwardReconnectDelaysMs ? { reconnectDelaysMs: options.forwardReconnectDelaysMs } : {}),
  });

  /** Resolves the destination through the OpenSSH config, connects hop by hop (asking the user through events). */
  const openSsh = async (destination: string, config: string | undefined, cols: number, rows: number) => {
    const profile = sshProfile(destination, config);
    let s: TerminalSession;
    try {
      s = await terminals.createSsh({ connection: await ssh.connect(profile), cols, rows });
    } catch (err) {
      throw sshFailure(err, destination);
    }
    wire(s, profile.target.name);
    // The host's LocalForward lines open as with `ssh`, on the connection just made.
    void forwards.attachProfile(destination, config, profile);
    return s;
  };

  /** The shell's hooks report once it is up; a lab command typed before that would be lost. */
  const whenReady = (s: TerminalSession): Promise<TerminalSession> =>
    new Promise((resolve, reject) => {
      const settle = (): boolean => {
        const info = s.info();
        if (info.shellIntegration) resolve(s);
        else if (info.exit)
          reject(new Error(`the terminal for this role exited before its shell was ready (${info.shell})`));
        else return false;
        return true;
      };
      if (settle()) return;
      const timer = setTimeout(() => {
        sub.dispose();
        reject(
          new Error(
            `the terminal for this role reported no shell integration (bash or zsh needed): ${s.info().shell}`,
          ),
        );
      }, 10_000);
      const sub = s.onInfo(() => {
        if (settle()) {
          clearTimeout(timer);
          sub.dispose();
        }
      });
    });

  openLabTerminal = async ({ spec }) => {
    let s: TerminalSession;
    if (spec.kind === 'local') {
      s = terminals.createLocal({
        cols: 120,
        rows: 30,
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
        ...(spec.env ? { env: { ...spec.env } } : {}),
      });
      wire(s, localNode);
    } else if (spec.kind === 'ssh') {
      s = await openSsh(spec.host, spec.config, 120, 30);
    } else {
      return undefined;
    }
    hub.emit('terminal.opened', s.info());
    return whenReady(s);
  };

  const handlers: Handlers = {
    'app.info': () => ({
      name: 'LabDeck',
      version: options.version,
      host: options.host,
      platform: process.platform,
    }),
    'app.openExternal': async ({ url }) => {
      if (!isSafeExternalUrl(url))
        throw new ApiFailure('link-refused', `only http and https links open, not ${url}`, url);
      await options.openExternal(url);
      return null;
    },
    'terminal.create': async (arg) => {
      if (arg.kind === 'ssh') {
        const s = await openSsh(arg.destination, arg.config, arg.cols, arg.rows);
        return s.info();
      }
      const { cols, rows, cwd, shell } = arg;
      let s: TerminalSession;
      try {
        s = terminals.createLocal({ cols, rows, ...(cwd ? { cwd } : {}), ...(shell ? { shell } : {}) });
      } catch (err) {
        throw new ApiFailure('terminal-create-failed', (err as Error).message, shell ?? cwd);
      }
      wire(s, localNode);
      return s.info();
    },
    'terminal.reconnect': async ({ id }) => {
      const old = session(id);
      const node = nodeOf.get(id) ?? 'ssh';
      let fresh: TerminalSession;
      try {
        fresh = await terminals.reconnectSsh(old.id);
      } catch (err) {
        throw sshFailure(err, id);
      }
      unwire(id);
      wire(fresh, node);
      return fresh.info();
    },
    'ssh.hosts': ({ config }) => listSshHosts(config),
    'ssh.answer': ({ request, answer }) => {
      sshPrompts.answer(request, answer);
      return null;
    },
    'forwards.list': () => forwards.list(),
    'forwards.open': async ({ destination, config, spec, fields, exposeBeyondLoopback }) => {
      try {
        const forward = spec ?? fields;
        if (forward === undefined) throw new ApiFailure('bad-request', 'give spec or fields', 'spec');
        return await forwards.open({ destination, config, forward, exposeBeyondLoopback });
      } catch (err) {
        throw sshFailure(err, destination);
      }
    },
    'forwards.reconnect': async ({ id }) => {
      try {
        return await forwards.reconnect(id);
      } catch (err) {
        throw sshFailure(err, id);
      }
    },
    'forwards.close': ({ id }) => {
      forwards.close(id);
      return null;
    },
    'terminal.list': () => terminals.list(),
    'terminal.write': ({ id, data }) => {
      session(id).write(data);
      return null;
    },
    'terminal.resize': ({ id, cols, rows }) => {
      session(id).resize(cols, rows);
      return null;
    },
    'terminal.ack': ({ id, chars }) => {
      session(id).acknowledge(chars);
      return null;
    },
    'terminal.kill': ({ id, signal }) => {
      session(id).kill(signal);
      return null;
    },
    'terminal.close': ({ id }) => {
      session(id);
      terminals.close(id);
      unwire(id);
      return null;
    },
    'terminal.blocks': ({ id }) => [...session(id).blocks()],
    'terminal.output': ({ id }) => ({ data: session(id).recentOutput() }),
    'terminal.record': async ({ id, on }) => {
      const s = session(id);
      if (!on) return { file: await s.stopRecording() };
      const dir = path.join(data, 'recordings');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.cast`);
      await s.startRecording(file);
      return { file };
    },
    'snapshot.get': () => snapshot.view(),
    'snapshot.add': ({ text, command, node }) => ({
      captured: snapshot.add({
        text,
        ...(command ? { command } : {}),
        ...(node ? { node } : {}),
        origin: 'paste',
      }),
    }),
    'snapshot.remove': ({ id }) => {
      if (!snapshot.remove(id)) throw new ApiFailure('capture-not-found', `no capture "${id}"`, id);
      return null;
    },
    'snapshot.clear': () => {
      snapshot.clear();
      return null;
    },
    'labs.list': () => labs.list(),
    'labs.open': ({ id }) => labs.open(id),
    'labs.add': ({ dir }) => labs.add(expandHome(dir)),
    'labs.trust': ({ id, trusted }) => labs.setTrusted(id, trusted),
    'labs.start': ({ id, replay, inventory }) =>
      labs.start({
        labId: id,
        ...(replay !== undefined ? { replay } : {}),
        ...(inventory !== undefined ? { inventory } : {}),
      }),
    'labs.runBlock': ({ session, step, block }) => labs.runBlock(session, step, block),
    'labs.runChecks': ({ session, step }) => labs.runChecks(session, step),
    'labs.runStep': ({ session, step, skipSetup }) => labs.runStep(session, step, skipSetup ?? false),
    'labs.progress': ({ session }) => labs.progress(session),
    'labs.answer': ({ request, yes }) => {
      labs.answer(request, yes);
      return null;
    },
    'labs.stop': async ({ session }) => {
      await labs.stop(session);
      return null;
    },
    'kube.contexts': ({ kubeconfig }) => kube.contexts(kubeconfig ? expandHome(kubeconfig) : undefined),
    'kube.connect': (req) =>
      kube.connect({
        ...req,
        ...(req.kubeconfig ? { kubeconfig: expandHome(req.kubeconfig) } : {}),
        ...(req.sshConfig ? { sshConfig: expandHome(req.sshConfig) } : {}),
      }),
    'kube.disconnect': async () => {
      await kube.disconnect();
      return null;
    },
    'kube.status': () => kube.status(),
  };

  const api = new ApiServer(handlers, hub, options.log);
  return {
    api,
    hub,
    terminals,
    snapshot,
    labs,
    forwards,
    kube,
    dispose: () => {
      forwards.dispose();
      kube.dispose();
      sshPrompts.dispose();
      labs.dispose();
      snapshot.dispose();
      api.dispose();
      for (const list of wired.values()) for (const d of list) d.dispose();
      wired.clear();
      terminals.dispose();
    },
  };
}
