/**
 * `labdeck sandbox`: a miniature of the seed's cluster built from real parts on one Linux machine.
 *
 *   root ns ──veth (10.255.x.y/30)── bastion (sshd) ──veth── lan (bridge br0, 10.0.8.0/24)
 *                                                             ├── master   (sshd, kube-api double, kube-proxy rules)
 *                                                             ├── worker-1 (sshd, kube-proxy rules) ──cali* veths── pods
 *                                                             └── worker-2 (sshd, kube-proxy rules) ──cali* veths── pods
 *
 * Nodes route pod CIDRs to each other (Calico routed mode: /32 per pod on a proxy-ARP veth, a blackhole for the
 * node's own block, peer blocks via the peer node). Only the bastion's /30 exists in the root namespace.
 * Every node's sshd runs in its own mount and UTS namespace, where /etc, /opt and /root are overlays whose upper
 * layers live in the instance directory: sessions see /etc/cni/net.d/10-calico.conflist, /opt/cni/bin and
 * ~/.kube/config like on the seed's nodes, and nothing they write reaches the host.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  chmodSync,
  chownSync,
  renameSync,
  readlinkSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  clusterObjects,
  faultTargets,
  kubeProxyOptions,
  kubeProxyServices,
  kuardEnvResponse,
} from './cluster-state.js';
import type { FaultName, FaultSet, HostFacts } from './cluster-state.js';
import { nodeRestoreText } from './kube-proxy-rules.js';
import { LAB_INVENTORY_FILE, labInventoryText } from './labInventory.js';
import { isAlive, must, run, startDaemon, waitFor, which, sleep } from './processes.js';
import { checkInstanceName, planNamespaces, planSandbox, DEFAULT_INSTANCE, KUARD_PORT } from './topology.js';
import type { NodePlan, PlanOptions, PodPlan, SandboxPlan } from './topology.js';

export const DEFAULT_BASE_DIR = '/run/labdeck/sandbox';
const STATE_VERSION = 1;

export interface SandboxEnv {
  /** Where instance directories live (state, keys, configs, logs). */
  readonly baseDir: string;
  /** argv prefix that runs the `labdeck` CLI (for the hidden `sandbox _kuard` / `_api-double` servers). */
  readonly selfCommand: readonly string[];
  readonly log?: (line: string) => void;
  /**
   * The user who ran `sudo labdeck sandbox up` (SUDO_UID/SUDO_GID): the files a client needs (ssh_config,
   * known_hosts, the client key, kubeconfig, the CA) are handed to them, so plain `ssh -F` and LabDeck itself work
   * without root. Host keys and everything else stay root's.
   */
  readonly clientOwner?: { readonly uid: number; readonly gid: number };
}

export interface SandboxState {
  readonly version: number;
  readonly plan: Required<Pick<PlanOptions, 'name' | 'index' | 'workers' | 'pods'>>;
  readonly createdAt: string;
  phase: 'creating' | 'up';
  faults: Record<string, boolean>;
  pids: Record<string, number>;
}

export class SandboxError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'not-linux'
      | 'not-root'
      | 'missing-tool'
      | 'name-clash'
      | 'bad-name'
      | 'bad-dir'
      | 'not-up'
      | 'busy'
      | 'failed',
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

export interface SandboxInfo {
  readonly name: string;
  readonly dir: string;
  readonly sshConfig: string;
  readonly knownHosts: string;
  readonly identity: string;
  readonly kubeconfig: string;
  /** The lab inventory binding the lab roles to this instance's machines (`labdeck lab run --inventory`). */
  readonly inventory: string;
  readonly bastion: string;
  readonly nodes: readonly { name: string; ip: string }[];
  readonly pods: readonly { name: string; ip: string; node: string }[];
  readonly services: readonly { name: string; clusterIP: string; port: number; nodePort?: number }[];
  readonly apiServer: string;
  /** The cluster CA that signed the API double's certificate. */
  readonly caFile: string;
  readonly faults: readonly string[];
}

const REQUIRED_TOOLS = [
  'ip',
  'sshd',
  'ssh-keygen',
  'iptables-restore',
  'iptables-save',
  'unshare',
  'nsenter',
  'mount',
];

export interface HostCheck {
  readonly platform: string;
  readonly uid: number | undefined;
  readonly which: (tool: string) => string | undefined;
}

const THIS_HOST: HostCheck = {
  platform: process.platform,
  uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
  which,
};

/** Everything that must hold before we touch the machine; each problem is a full sentence with advice. */
export function preflight(host: HostCheck = THIS_HOST): SandboxError | undefined {
  if (host.platform !== 'linux') {
    return new SandboxError(
      `labdeck sandbox needs root on Linux (network namespaces, veth pairs, iptables); this is ${host.platform}. Nothing was changed.`,
      'not-linux',
    );
  }
  if (host.uid !== 0) {
    return new SandboxError(
      'labdeck sandbox needs root on Linux: it creates network namespaces, veth pairs and iptables rules. Run it with sudo. Nothing was changed.',
      'not-root',
    );
  }
  const missing = REQUIRED_TOOLS.filter((t) => !host.which(t));
  if (missing.length) {
    return new SandboxError(
      `labdeck sandbox needs ${missing.join(', ')} (Debian packages: iproute2, openssh-server, openssh-client, iptables, util-linux, mount, openssl). Install them and try again. Nothing was changed.`,
      'missing-tool',
    );
  }
  return undefined;
}

export class Sandbox {
  readonly plan: SandboxPlan;
  readonly dir: string;

  constructor(
    private readonly env: SandboxEnv,
    planOptions: PlanOptions = {},
  ) {
    const name = planOptions.name ?? DEFAULT_INSTANCE;
    const bad = checkInstanceName(name);
    if (bad) throw new SandboxError(`${bad}. Nothing was changed.`, 'bad-name');
    this.dir = join(env.baseDir, name);
    const saved = this.readState();
    this.plan = planSandbox(saved ? saved.plan : planOptions);
  }

  private log(line: string): void {
    this.env.log?.(line);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // files

  get statePath(): string {
    return join(this.dir, 'state.json');
  }

  readState(): SandboxState | undefined {
    try {
      const s = JSON.parse(readFileSync(this.statePath, 'utf8')) as SandboxState;
      return s.version === STATE_VERSION ? s : undefined;
    } catch {
      return undefined;
    }
  }

  private writeState(s: SandboxState): void {
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(s, null, 2), { mode: 0o600 });
    renameSync(tmp, this.statePath);
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  info(faults: FaultSet = this.readState()?.faults ?? {}): SandboxInfo {
    const p = this.plan;
    return {
      name: p.name,
      dir: this.dir,
      sshConfig: this.path('ssh_config'),
      knownHosts: this.path('known_hosts'),
      identity: this.path('id_ed25519'),
      kubeconfig: this.path('kubeconfig'),
      inventory: this.path(LAB_INVENTORY_FILE),
      bastion: p.bastionIp,
      nodes: p.nodes.map((n) => ({ name: n.name, ip: n.ip })),
      pods: p.pods.map((x) => ({ name: x.name, ip: x.ip, node: x.node })),
      services: p.services.map((s) => ({
        name: s.name,
        clusterIP: s.clusterIP,
        port: s.port,
        ...(s.nodePort ? { nodePort: s.nodePort } : {}),
      })),
      apiServer: `https://${p.apiServer.ip}:${p.apiServer.port}`,
      caFile: this.path('pki', 'ca.crt'),
      faults: Object.entries(faults)
        .filter(([, on]) => on)
        .map(([k]) => k),
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // up

  async up(): Promise<SandboxInfo> {
    const pre = preflight();
    if (pre) throw pre;
    const covered = NODE_OVERLAYS.find((t) => isUnder(resolve(this.env.baseDir), `/${t}`));
    if (covered)
      throw new SandboxError(
        `the sandbox folder ${this.env.baseDir} is under /${covered}, which every node overlays with a copy of its own ` +
          `(a folder cannot hold the overlay of a directory it is in); give --dir a folder outside ` +
          `${NODE_OVERLAYS.map((t) => `/${t}`).join(', ')}, such as the default ${DEFAULT_BASE_DIR}. Nothing was changed.`,
        'bad-dir',
      );
    return this.locked(() => this.upLocked(), true);
  }

  private async upLocked(): Promise<SandboxInfo> {
    for (const [tool, pkg, why] of [
      ['kubectl', 'kubernetes-client', 'to run kubectl on the nodes'],
      ['curl', 'curl', 'to curl services from the nodes'],
    ] as const) {
      if (!which(tool))
        this.log(`note: ${tool} is not installed (Debian package ${pkg}); the lab needs it ${why}`);
    }
    const existing = this.readState();
    if (existing) {
      const st = await this.status();
      if (existing.phase === 'up' && st.healthy) {
        this.log(`sandbox ${this.plan.name} is already up`);
        return this.info();
      }
      this.log(`sandbox ${this.plan.name} is half there (${st.problems.join('; ')}); tearing it down first`);
      await this.downLocked();
    } else {
      const clash = await this.findClash();
      if (clash) throw new SandboxError(clash, 'name-clash');
    }

    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const state: SandboxState = {
      version: STATE_VERSION,
      plan: {
        name: this.plan.name,
        index: this.plan.index,
        workers: this.plan.nodes.length - 1,
        pods: this.plan.pods.length,
      },
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      phase: 'creating',
      faults: {},
      pids: {},
    };
    this.writeState(state);
    try {
      await this.build(state);
      state.phase = 'up';
      this.writeState(state);
      return this.info({});
    } catch (err) {
      this.log(`up failed, cleaning up: ${err instanceof Error ? err.message : String(err)}`);
      await this.downLocked();
      throw err instanceof SandboxError
        ? err
        : new SandboxError(
            `sandbox up failed: ${err instanceof Error ? err.message : String(err)}`,
            'failed',
          );
    }
  }

  /** A reason not to go ahead, when something with our names exists that we did not record making. */
  private async findClash(): Promise<string | undefined> {
    const ours = new Set(planNamespaces(this.plan));
    const netns = await listNetns();
    const taken = netns.filter((n) => ours.has(n) || this.isOurNetnsName(n));
    if (taken.length) {
      return `network namespace ${taken[0]} already exists but ${this.statePath} does not record it. If it is left over from a crashed sandbox, run \`labdeck sandbox down --name ${this.plan.name}\` to sweep it; otherwise pick another --name. Nothing was changed.`;
    }
    const links = await run('ip', ['-o', 'link', 'show', 'dev', this.plan.rootIf]);
    if (links.code === 0) {
      return `interface ${this.plan.rootIf} already exists in the root namespace. Run \`labdeck sandbox down --name ${this.plan.name}\` if it is a leftover, or pick another --name. Nothing was changed.`;
    }
    const addrs = await run('ip', ['-4', '-o', 'addr', 'show']);
    for (const ip of [this.plan.rootIp, this.plan.bastionIp]) {
      if (new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`).test(addrs.stdout)) {
        return `address ${ip} (this instance's root link, index ${this.plan.index}) is already in use in the root namespace. Pick another --name. Nothing was changed.`;
      }
    }
    return undefined;
  }

  private isOurNetnsName(n: string): boolean {
    const prefix = `${this.plan.name}-`;
    if (!n.startsWith(prefix)) return false;
    return /^(bastion|lan|master|worker-\d+|pod-.+)$/.test(n.slice(prefix.length));
  }

  private async build(state: SandboxState): Promise<void> {
    const p = this.plan;
    const t0 = Date.now();
    for (const d of ['nodes', 'pods', 'logs']) mkdirSync(this.path(d), { recursive: true, mode: 0o700 });
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 }); // sshd's privilege-separation dir

    // Keys: one client key, one host key per machine.
    const hosts = ['bastion', ...p.nodes.map((n) => n.name)];
    await Promise.all([
      must('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        `labdeck-sandbox-${p.name}`,
        '-f',
        this.path('id_ed25519'),
      ]),
      ...hosts.map((h) => {
        mkdirSync(this.path('nodes', h), { recursive: true, mode: 0o700 });
        return must('ssh-keygen', [
          '-q',
          '-t',
          'ed25519',
          '-N',
          '',
          '-C',
          `${h}.${p.name}`,
          '-f',
          this.hostKeyPath(h),
        ]);
      }),
    ]);
    this.writeSshFiles();
    writeFileSync(this.path(LAB_INVENTORY_FILE), labInventoryText(p), { mode: 0o600 });
    await this.makeCertificates();
    await this.makeAdminCertificate();
    this.writeClusterFiles({}, state.createdAt);
    this.handOverClientFiles();

    // Namespaces and links.
    for (const ns of planNamespaces(p)) await must('ip', ['netns', 'add', ns]);
    await this.buildNetwork();
    this.log(`network ready (${Date.now() - t0} ms)`);

    // kube-proxy rules on every node.
    await Promise.all(p.nodes.map((n) => this.applyRules(n, {})));

    // Processes (the cluster files for the API double and the pods were written above).
    state.pids['bastion'] = await this.startSshd('bastion', p.bastion.netns, p.bastionIp, false);
    for (const n of p.nodes) state.pids[n.name] = await this.startSshd(n.name, n.netns, n.ip, true);
    this.writeState(state);
    state.pids['api-double'] = await this.startApiDouble();
    const pids = await Promise.all(p.pods.map((pod) => this.startKuard(pod)));
    p.pods.forEach((pod, i) => (state.pids[`pod/${pod.name}`] = pids[i]!));
    this.writeState(state);
    this.log(`processes ready (${Date.now() - t0} ms)`);
  }

  private async buildNetwork(): Promise<void> {
    const p = this.plan;
    const lan = p.lanNetns;
    const b = p.bastion.netns;
    const ipn = (ns: string, ...args: string[]) => must('ip', ['-n', ns, ...args]);
    await ipn(lan, 'link', 'set', 'lo', 'up');
    await ipn(lan, 'link', 'add', 'br0', 'type', 'bridge');
    await ipn(lan, 'link', 'set', 'br0', 'up');

    // root ↔ bastion
    await must('ip', ['link', 'add', p.rootIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    await must('ip', ['addr', 'add', `${p.rootIp}/${p.rootPrefix}`, 'dev', p.rootIf]);
    await must('ip', ['link', 'set', p.rootIf, 'up']);
    await ipn(b, 'link', 'set', 'lo', 'up');
    await ipn(b, 'addr', 'add', `${p.bastionIp}/${p.rootPrefix}`, 'dev', 'eth0');
    await ipn(b, 'link', 'set', 'eth0', 'up');
    // bastion ↔ lan
    await ipn(b, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'bastion', 'netns', lan);
    await ipn(b, 'addr', 'add', `${p.bastion.lanIp}/24`, 'dev', 'eth1');
    await ipn(b, 'link', 'set', 'eth1', 'up');
    await ipn(lan, 'link', 'set', 'dev', 'bastion', 'master', 'br0', 'up');

    for (const n of p.nodes) {
      await ipn(n.netns, 'link', 'set', 'lo', 'up');
      await ipn(n.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', n.name, 'netns', lan);
      await ipn(n.netns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
      await ipn(n.netns, 'link', 'set', 'eth0', 'up');
      await ipn(lan, 'link', 'set', 'dev', n.name, 'master', 'br0', 'up');
      // The VPC-style gateway is the bastion, which does not forward: nothing leaves the lab.
      await ipn(n.netns, 'route', 'add', 'default', 'via', p.bastion.lanIp, 'dev', 'eth0');
      // Calico: a blackhole for the node's own block, peer blocks via the peer node.
      await ipn(n.netns, 'route', 'add', 'blackhole', n.podCIDR);
      for (const peer of p.nodes) {
        if (peer !== n) await ipn(n.netns, 'route', 'add', peer.podCIDR, 'via', peer.ip, 'dev', 'eth0');
      }
      // kube-proxy (iptables mode, localhostNodePorts: true, the default) sets route_localnet=1 so that a NodePort on
      // 127.0.0.1 can be DNATed to a pod (pkg/proxy/iptables/proxier.go, sysctlRouteLocalnet); without it
      // `curl localhost:NODEPORT` on a node gets no answer.
      await must('ip', [
        'netns',
        'exec',
        n.netns,
        'sysctl',
        '-qw',
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.route_localnet=1',
      ]);
    }

    await Promise.all(p.pods.map((pod) => this.buildPodNetwork(pod)));
  }

  private async buildPodNetwork(pod: PodPlan): Promise<void> {
    const node = this.node(pod.node);
    const ipn = (ns: string, ...args: string[]) => must('ip', ['-n', ns, ...args]);
    await ipn(
      node.netns,
      'link',
      'add',
      pod.hostIf,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      pod.netns,
    );
    await ipn(pod.netns, 'link', 'set', 'lo', 'up');
    await ipn(pod.netns, 'addr', 'add', `${pod.ip}/32`, 'dev', 'eth0');
    await ipn(pod.netns, 'link', 'set', 'eth0', 'up');
    await ipn(pod.netns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
    await ipn(pod.netns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    await must('ip', [
      'netns',
      'exec',
      node.netns,
      'sysctl',
      '-qw',
      `net.ipv4.conf.${pod.hostIf}.proxy_arp=1`,
      `net.ipv4.neigh.${pod.hostIf}.proxy_delay=0`,
    ]);
    await ipn(node.netns, 'link', 'set', pod.hostIf, 'up');
    await ipn(node.netns, 'route', 'add', `${pod.ip}/32`, 'dev', pod.hostIf, 'scope', 'link');
  }

  private node(name: string): NodePlan {
    const n = this.plan.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  private async applyRules(node: NodePlan, faults: FaultSet): Promise<void> {
    const text = nodeRestoreText(kubeProxyServices(this.plan, faults, node.name), kubeProxyOptions(faults));
    writeFileSync(this.path('nodes', node.name, 'kube-proxy.rules'), text, { mode: 0o600 });
    await must('ip', ['netns', 'exec', node.netns, 'iptables-restore'], { input: text });
  }

  /**
   * A cluster CA and an API server certificate, like kubeadm's (SANs: the kubernetes service names, 10.96.0.1, the
   * master's address and name, and 127.0.0.1 for SSH tunnels).
   */
  private async makeCertificates(): Promise<void> {
    const p = this.plan;
    const pki = this.path('pki');
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    await must('openssl', [
      'req',
      '-x509',
      ...OPENSSL_NEW_EC_KEY,
      '-keyout',
      join(pki, 'ca.key'),
      '-out',
      join(pki, 'ca.crt'),
      '-subj',
      '/CN=kubernetes',
      '-days',
      '3650',
    ]);
    const kubernetesIp = p.services.find((s) => s.name === 'kubernetes')!.clusterIP;
    const sans = [
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      `DNS:${p.nodes[0]!.name}`,
      `IP:${kubernetesIp}`,
      `IP:${p.apiServer.ip}`,
      'IP:127.0.0.1',
    ];
    await this.signCertificate('apiserver', '/CN=kube-apiserver', 'serverAuth', [
      `subjectAltName=${sans.join(',')}`,
    ]);
  }

  /** kubeadm's admin.conf identity: a client certificate for kubernetes-admin in system:masters. */
  private async makeAdminCertificate(): Promise<void> {
    await this.signCertificate('admin', '/O=system:masters/CN=kubernetes-admin', 'clientAuth', []);
  }

  /** An EC key and a certificate signed by the instance CA (pki/ca.*), as `pki/<name>.key|crt`. */
  private async signCertificate(
    name: string,
    subject: string,
    usage: 'serverAuth' | 'clientAuth',
    extensions: readonly string[],
  ): Promise<void> {
    const pki = this.path('pki');
    await must('openssl', [
      'req',
      '-x509',
      ...OPENSSL_NEW_EC_KEY,
      '-keyout',
      join(pki, `${name}.key`),
      '-out',
      join(pki, `${name}.crt`),
      '-subj',
      subject,
      '-days',
      '365',
      '-CA',
      join(pki, 'ca.crt'),
      '-CAkey',
      join(pki, 'ca.key'),
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature',
      '-addext',
      `extendedKeyUsage=${usage}`,
      ...extensions.flatMap((e) => ['-addext', e]),
    ]);
  }

  private caData(): string {
    return readFileSync(this.path('pki', 'ca.crt')).toString('base64');
  }

  private handOverClientFiles(): void {
    const owner = this.env.clientOwner;
    if (!owner) return;
    // Traversable (not listable) for the user; each handed-over file is theirs with mode 0600 (0644 for public parts).
    if (this.env.baseDir === DEFAULT_BASE_DIR) {
      for (const d of [dirname(DEFAULT_BASE_DIR), DEFAULT_BASE_DIR]) chmodSync(d, 0o755);
    }
    chmodSync(this.dir, 0o711);
    chmodSync(this.path('pki'), 0o711);
    for (const f of [
      'ssh_config',
      'known_hosts',
      'id_ed25519',
      'id_ed25519.pub',
      'kubeconfig',
      LAB_INVENTORY_FILE,
      join('pki', 'ca.crt'),
    ]) {
      chownSync(this.path(f), owner.uid, owner.gid);
    }
  }

  private hostKeyPath(host: string): string {
    return this.path('nodes', host, 'ssh_host_ed25519_key');
  }

  private writeSshFiles(): void {
    const p = this.plan;
    const pub = (file: string) =>
      readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    writeFileSync(this.path('authorized_keys'), `${pub(this.path('id_ed25519'))}\n`, { mode: 0o600 });
    const known = [
      `bastion,${p.bastionIp} ${pub(this.hostKeyPath('bastion'))}`,
      ...p.nodes.map((n) => `${n.name},${n.ip} ${pub(this.hostKeyPath(n.name))}`),
    ];
    writeFileSync(this.path('known_hosts'), `${known.join('\n')}\n`, { mode: 0o600 });
    const cfg = [
      `# LabDeck sandbox "${p.name}": ssh -F ${this.path('ssh_config')} master`,
      'Host bastion',
      `  HostName ${p.bastionIp}`,
      '',
      ...p.nodes.flatMap((n) => [`Host ${n.name}`, `  HostName ${n.ip}`, '  ProxyJump bastion', '']),
      'Host *',
      '  User root',
      `  IdentityFile ${this.path('id_ed25519')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${this.path('known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  UpdateHostKeys no',
      '  BatchMode yes',
      '  ConnectTimeout 5',
      '  LogLevel ERROR',
      '',
    ];
    writeFileSync(this.path('ssh_config'), cfg.join('\n'), { mode: 0o600 });
  }

  private sshdConfig(host: string, ip: string): string {
    return [
      `# sshd for ${host} of LabDeck sandbox ${this.plan.name}`,
      `ListenAddress ${ip}:22`,
      `HostKey ${this.hostKeyPath(host)}`,
      `PidFile ${this.path('nodes', host, 'sshd.pid')}`,
      `AuthorizedKeysFile ${this.path('authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n');
  }

  /** Start sshd in `netns`; nodes get their own mount + UTS namespace with the CNI/kubeconfig overlays. */
  private async startSshd(host: string, netns: string, ip: string, isNode: boolean): Promise<number> {
    const dir = this.path('nodes', host);
    const cfg = join(dir, 'sshd_config');
    writeFileSync(cfg, this.sshdConfig(host, ip), { mode: 0o600 });
    const pidFile = join(dir, 'sshd.pid');
    rmSync(pidFile, { force: true });
    const sshd = which('sshd')!;
    // Every machine's sshd (the bastion's too) gets its own mount and UTS namespace: what a session does to
    // mounts or the hostname stays inside the lab, never reaches this machine.
    const argv = [
      'ip',
      'netns',
      'exec',
      netns,
      'unshare',
      '--mount',
      '--uts',
      '--propagation',
      'private',
      sshd,
      '-D',
      '-f',
      cfg,
      '-E',
      join(dir, 'sshd.log'),
    ];
    const pid = startDaemon(argv, this.path('logs', `${host}-sshd.out`));
    await this.nameOwnHost(host, pid);
    if (isNode) await this.prepareNodeMounts(host, pid);
    const ok = await waitFor(() => existsSync(pidFile), 10_000);
    if (!ok || !isAlive(pid)) {
      throw new Error(
        `sshd for ${host} did not start; see ${join(dir, 'sshd.log')} and ${this.path('logs', `${host}-sshd.out`)}`,
      );
    }
    return pid;
  }

  /**
   * Inside the node sshd's own mount namespace: overlays for /etc, /opt, /root, /home and /var (what a session
   * writes there stays in the instance folder), and an empty tmpfs of its own for /tmp and /var/tmp (unless the
   * instance folder is in one of them).
   */
  private async prepareNodeMounts(host: string, pid: number): Promise<void> {
    const dir = this.path('nodes', host);
    for (const target of NODE_OVERLAYS) {
      mkdirSync(join(dir, 'overlay', target, 'upper'), { recursive: true, mode: 0o755 });
      mkdirSync(join(dir, 'overlay', target, 'work'), { recursive: true, mode: 0o700 });
    }
    this.writeNodeFiles(host);
    for (const target of NODE_OVERLAYS) {
      const o = join(dir, 'overlay', target);
      await mountIn(
        pid,
        'overlay',
        `labdeck-${this.plan.name}-${host}-${target}`,
        `lowerdir=/${target},upperdir=${o}/upper,workdir=${o}/work`,
        `/${target}`,
      );
    }
    // The node's sshd keeps its own files in the instance folder: a folder under /tmp (the tests') keeps this
    // machine's /tmp visible to the node instead of hiding it, and says so.
    const dirReal = resolve(this.dir);
    for (const target of NODE_TMPFS) {
      if (isUnder(dirReal, target)) {
        this.log(
          `note: ${host} shares this machine's ${target}, because the sandbox folder ${this.dir} is in it`,
        );
        continue;
      }
      await mountIn(
        pid,
        'tmpfs',
        `labdeck-${this.plan.name}-${host}-tmp`,
        'mode=1777,size=64m,nosuid,nodev',
        target,
      );
    }
  }

  /** Names the machine inside the sshd's own UTS namespace, once unshare has made it (never this machine's). */
  private async nameOwnHost(host: string, pid: number): Promise<void> {
    // `ip netns exec` gives the process a mount namespace of its own before `unshare --mount --uts` runs, so a
    // different mount namespace alone does not mean unshare is done: wait until the UTS namespace differs too,
    // or `hostname` below would rename this machine.
    const ours = { mnt: readLink('/proc/self/ns/mnt'), uts: readLink('/proc/self/ns/uts') };
    await waitFor(
      () => {
        const m = readLink(`/proc/${pid}/ns/mnt`);
        const u = readLink(`/proc/${pid}/ns/uts`);
        return m !== undefined && u !== undefined && m !== ours.mnt && u !== ours.uts;
      },
      5_000,
      10,
    );
    if (readLink(`/proc/${pid}/ns/uts`) === ours.uts) {
      throw new Error(
        `sshd for ${host} (pid ${pid}) did not get a UTS namespace of its own; not renaming the host`,
      );
    }
    await must('nsenter', ['-t', String(pid), '-u', '--', 'hostname', host]);
  }

  private writeNodeFiles(host: string): void {
    const up = (target: string, ...rest: string[]) =>
      join(this.path('nodes', host, 'overlay', target, 'upper'), ...rest);
    mkdirSync(up('etc', 'cni', 'net.d'), { recursive: true });
    writeFileSync(up('etc', 'cni', 'net.d', '10-calico.conflist'), calicoConflist(host));
    writeFileSync(
      up('etc', 'cni', 'net.d', 'calico-kubeconfig'),
      [
        '# Kubeconfig file for Calico CNI plugin. (LabDeck sandbox: the kube-api double does not check the token.)',
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: local',
        '  cluster:',
        `    server: https://${this.plan.apiServer.ip}:${this.plan.apiServer.port}`,
        `    certificate-authority-data: ${this.caData()}`,
        'users:',
        '- name: calico',
        '  user:',
        '    token: labdeck-sandbox-calico',
        'contexts:',
        '- name: calico-context',
        '  context:',
        '    cluster: local',
        '    user: calico',
        'current-context: calico-context',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    mkdirSync(up('opt', 'cni', 'bin'), { recursive: true });
    for (const plugin of CNI_PLUGINS) {
      const f = up('opt', 'cni', 'bin', plugin);
      writeFileSync(f, cniStandIn(plugin));
      chmodSync(f, 0o755);
    }
    // A node's root has a fresh home, not this machine's: without these, an SSH session on a node would run the
    // host's own ~/.bashrc (through the overlay), with whatever it starts (seen here: `pyenv init`, whose rehash
    // lock made concurrent sessions on several nodes wait forever). Debian's defaults for root.
    writeFileSync(up('root', '.bashrc'), DEBIAN_ROOT_BASHRC);
    writeFileSync(up('root', '.profile'), DEBIAN_ROOT_PROFILE);
    mkdirSync(up('root', '.kube'), { recursive: true, mode: 0o700 });
    writeFileSync(up('root', '.kube', 'config'), this.kubeconfigText(), { mode: 0o600 });
  }

  private kubeconfigText(): string {
    const p = this.plan;
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${p.name}`,
      '  cluster:',
      `    server: https://${p.apiServer.ip}:${p.apiServer.port}`,
      `    certificate-authority-data: ${this.caData()}`,
      'users:',
      '- name: kubernetes-admin',
      '  user:',
      `    client-certificate-data: ${readFileSync(this.path('pki', 'admin.crt')).toString('base64')}`,
      `    client-key-data: ${readFileSync(this.path('pki', 'admin.key')).toString('base64')}`,
      'contexts:',
      `- name: kubernetes-admin@${p.name}`,
      '  context:',
      `    cluster: ${p.name}`,
      '    user: kubernetes-admin',
      '    namespace: default',
      `current-context: kubernetes-admin@${p.name}`,
      'preferences: {}',
      '',
    ].join('\n');
  }

  private writeClusterFiles(faults: FaultSet, createdAt: string): void {
    const objects = clusterObjects(this.plan, faults, createdAt, hostFacts());
    const tmp = this.path('cluster.json.tmp');
    writeFileSync(tmp, JSON.stringify(objects), { mode: 0o600 });
    renameSync(tmp, this.path('cluster.json'));
    writeFileSync(this.path('kubeconfig'), this.kubeconfigText(), { mode: 0o600 });
    for (const pod of this.plan.pods) {
      writeFileSync(this.path('pods', `${pod.name}.json`), JSON.stringify(kuardEnvResponse(this.plan, pod)));
    }
  }

  private async startApiDouble(): Promise<number> {
    const p = this.plan;
    const ready = this.path('api-double.ready');
    rmSync(ready, { force: true });
    const pid = startDaemon(
      [
        'ip',
        'netns',
        'exec',
        p.nodes[0]!.netns,
        ...this.env.selfCommand,
        'sandbox',
        '_api-double',
        '--listen',
        `${p.apiServer.ip}:${p.apiServer.port}`,
        '--state',
        this.path('cluster.json'),
        '--ready',
        ready,
        '--tls-cert',
        this.path('pki', 'apiserver.crt'),
        '--tls-key',
        this.path('pki', 'apiserver.key'),
        '--instance',
        p.name,
      ],
      this.path('logs', 'api-double.log'),
    );
    if (!(await waitFor(() => existsSync(ready), 30_000, 50)) || !isAlive(pid)) {
      throw new Error(`the kube-api double did not start; see ${this.path('logs', 'api-double.log')}`);
    }
    return pid;
  }

  private async startKuard(pod: PodPlan): Promise<number> {
    const ready = this.path('pods', `${pod.name}.ready`);
    rmSync(ready, { force: true });
    const pid = startDaemon(
      [
        'ip',
        'netns',
        'exec',
        pod.netns,
        ...this.env.selfCommand,
        'sandbox',
        '_kuard',
        '--listen',
        `0.0.0.0:${KUARD_PORT}`,
        '--response',
        this.path('pods', `${pod.name}.json`),
        '--ready',
        ready,
      ],
      this.path('logs', `pod-${pod.name}.log`),
    );
    if (!(await waitFor(() => existsSync(ready), 60_000, 50)) || !isAlive(pid)) {
      throw new Error(
        `kuard in pod ${pod.name} did not start; see ${this.path('logs', `pod-${pod.name}.log`)}`,
      );
    }
    return pid;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // faults

  async fault(name: FaultName, on: boolean): Promise<void> {
    const pre = preflight();
    if (pre) throw pre;
    return this.locked(() => this.faultLocked(name, on));
  }

  private async faultLocked(name: FaultName, on: boolean): Promise<void> {
    const state = this.readState();
    if (!state || state.phase !== 'up') {
      throw new SandboxError(
        `sandbox ${this.plan.name} is not up; run \`labdeck sandbox up --name ${this.plan.name}\` first`,
        'not-up',
      );
    }
    const faults: Record<string, boolean> = { ...state.faults, [name]: on };
    const t = faultTargets(this.plan);
    switch (name) {
      case 'stale-sep':
      case 'missing-endpoint':
      case 'skewed-probability':
      case 'node-drift':
        await Promise.all(this.plan.nodes.map((n) => this.applyRules(n, faults)));
        break;
      case 'dead-pod': {
        const key = `pod/${t.deadPod.name}`;
        if (on) {
          await this.killOurs(state.pids[key]);
        } else if (!isAlive(state.pids[key] ?? -1)) {
          state.pids[key] = await this.startKuard(t.deadPod);
        }
        break;
      }
      case 'hostkey-change': {
        const key = this.hostKeyPath(t.hostkeyNode.name);
        const orig = `${key}.orig`;
        if (on && !existsSync(orig)) {
          renameSync(key, orig);
          renameSync(`${key}.pub`, `${orig}.pub`);
          await must('ssh-keygen', [
            '-q',
            '-t',
            'ed25519',
            '-N',
            '',
            '-C',
            `${t.hostkeyNode.name}.${this.plan.name}.replaced`,
            '-f',
            key,
          ]);
        } else if (!on && existsSync(orig)) {
          renameSync(orig, key);
          renameSync(`${orig}.pub`, `${key}.pub`);
        }
        // SIGHUP: sshd re-executes itself with the same pid (and mount namespace) and reloads its host keys.
        const pid = state.pids[t.hostkeyNode.name];
        if (pid && isAlive(pid) && (await this.ownsPid(pid))) process.kill(pid, 'SIGHUP');
        await sleep(300);
        break;
      }
      case 'bastion-down':
        if (on) {
          await this.killOurs(state.pids['bastion']);
        } else if (!isAlive(state.pids['bastion'] ?? -1)) {
          state.pids['bastion'] = await this.startSshd(
            'bastion',
            this.plan.bastion.netns,
            this.plan.bastionIp,
            false,
          );
        }
        break;
    }
    state.faults = faults;
    this.writeClusterFiles(faults, state.createdAt);
    this.writeState(state);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // status

  async status(): Promise<{ up: boolean; healthy: boolean; problems: string[]; info: SandboxInfo }> {
    const state = this.readState();
    const problems: string[] = [];
    if (!state) return { up: false, healthy: false, problems: ['no state file'], info: this.info({}) };
    if (state.phase !== 'up') problems.push(`phase is ${state.phase} (up did not finish)`);
    const netns = new Set(await listNetns());
    for (const ns of planNamespaces(this.plan)) if (!netns.has(ns)) problems.push(`netns ${ns} missing`);
    const faults = state.faults;
    const t = faultTargets(this.plan);
    for (const [key, pid] of Object.entries(state.pids)) {
      const expectedDown =
        (key === 'bastion' && faults['bastion-down']) ||
        (key === `pod/${t.deadPod.name}` && faults['dead-pod']);
      if (!expectedDown && !isAlive(pid)) problems.push(`${key} (pid ${pid}) is not running`);
    }
    return { up: true, healthy: problems.length === 0, problems, info: this.info(faults) };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // down

  /** Remove everything: processes in our namespaces, the namespaces (and with them every veth), the root link, files. */
  async down(): Promise<{ removed: string[] }> {
    const pre = preflight();
    if (pre) throw pre;
    return this.locked(() => this.downLocked());
  }

  private lockDepth = 0;

  /**
   * One command at a time per instance: `<baseDir>/<name>.lock` holds the pid of the command working on it. A lock
   * left by a process that died (a crash midway) is taken over. Re-entrant (up calls down).
   */
  private async locked<T>(fn: () => Promise<T>, create = false): Promise<T> {
    const lock = join(this.env.baseDir, `${this.plan.name}.lock`);
    // Only `up` may create the base directory; down/fault on a missing one have nothing to lock (or change).
    if (!create && !existsSync(this.env.baseDir)) return fn();
    if (this.lockDepth === 0) {
      mkdirSync(this.env.baseDir, { recursive: true, mode: 0o755 });
      try {
        writeFileSync(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      } catch {
        const holder = Number.parseInt(readFileSync(lock, 'utf8'), 10);
        if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
          throw new SandboxError(
            `another labdeck sandbox command (pid ${holder}) is working on "${this.plan.name}"; wait for it to finish. Nothing was changed.`,
            'busy',
          );
        }
        writeFileSync(lock, `${process.pid}\n`, { mode: 0o600 });
      }
    }
    this.lockDepth++;
    try {
      return await fn();
    } finally {
      this.lockDepth--;
      if (this.lockDepth === 0) {
        rmSync(lock, { force: true });
        if (this.env.baseDir === DEFAULT_BASE_DIR) {
          // Leave no trace of a sandbox that is gone: the default directories go when empty.
          for (const d of [DEFAULT_BASE_DIR, dirname(DEFAULT_BASE_DIR)]) {
            try {
              rmdirSync(d);
            } catch {
              break; // not empty
            }
          }
        }
      }
    }
  }

  private async downLocked(): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    const state = this.readState();
    const netns = (await listNetns()).filter((n) => this.isOurNetnsName(n));
    // 1. processes: every pid inside our namespaces (sshd and its sessions, servers), plus recorded pids.
    const pids = new Set<number>(Object.values(state?.pids ?? {}));
    for (const ns of netns) {
      const r = await run('ip', ['netns', 'pids', ns]);
      for (const line of r.stdout.split('\n')) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
    }
    const live = [...pids].filter(
      (pid) => pid > 1 && pid !== process.pid && isAlive(pid) && this.isOurProcess(pid, netns),
    );
    for (const pid of live) safeKill(pid, 'SIGTERM');
    await waitFor(() => live.every((pid) => !isAlive(pid)), 3_000, 50);
    for (const pid of live) if (isAlive(pid)) safeKill(pid, 'SIGKILL');
    await waitFor(() => live.every((pid) => !isAlive(pid)), 2_000, 50);
    if (live.length) removed.push(`${live.length} processes`);
    // 2. namespaces (deleting a namespace destroys the veths and mounts in it).
    for (const ns of netns) {
      const r = await run('ip', ['netns', 'del', ns]);
      if (r.code === 0) removed.push(`netns ${ns}`);
    }
    // 3. the root-namespace end of the bastion link, if it survived.
    const l = await run('ip', ['link', 'del', this.plan.rootIf]);
    if (l.code === 0) removed.push(`link ${this.plan.rootIf}`);
    // 4. files.
    if (existsSync(this.dir)) {
      rmSync(this.dir, { recursive: true, force: true });
      removed.push(`dir ${this.dir}`);
    }
    return { removed };
  }

  /** Whether a recorded pid is still one of ours (pids are reused): it must live in one of our namespaces. */
  private async ownsPid(pid: number): Promise<boolean> {
    const netns = (await listNetns()).filter((n) => this.isOurNetnsName(n));
    return this.isOurProcess(pid, netns);
  }

  /** Stops a recorded process, unless its pid now belongs to something else. */
  private async killOurs(pid: number | undefined): Promise<void> {
    if (pid && isAlive(pid) && (await this.ownsPid(pid))) await killPid(pid);
  }

  /** A recorded pid is only killed if it still lives in one of our namespaces (pids get reused). */
  private isOurProcess(pid: number, netns: readonly string[]): boolean {
    const theirs = readLink(`/proc/${pid}/ns/net`);
    if (!theirs) return false;
    for (const ns of netns) {
      try {
        // /run/netns/<name> is a bind mount of the namespace inode; compare via the nsfs link of a process in it.
        const inode = statIno(`/run/netns/${ns}`);
        if (inode !== undefined && theirs === `net:[${inode}]`) return true;
      } catch {
        // gone
      }
    }
    return false;
  }
}

// -----------------------------------------------------------------------------------------------------------------

async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** Every sandbox instance with a state directory under `baseDir`. */
export function listInstances(baseDir: string): string[] {
  try {
    return readdirSync(baseDir).filter((n) => existsSync(join(baseDir, n, 'state.json')));
  } catch {
    return [];
  }
}

function readLink(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

function statIno(p: string): number | undefined {
  try {
    return statSync(p).ino;
  } catch {
    return undefined;
  }
}

function safeKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function killPid(pid: number | undefined): Promise<void> {
  if (!pid || !isAlive(pid)) return;
  safeKill(pid, 'SIGTERM');
  if (!(await waitFor(() => !isAlive(pid), 3_000, 50))) safeKill(pid, 'SIGKILL');
  await waitFor(() => !isAlive(pid), 2_000, 50);
}

function hostFacts(): HostFacts {
  let osImage = 'Linux';
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) osImage = m[1];
  } catch {
    // keep the default
  }
  return { kernelVersion: release(), osImage };
}

/** /etc/skel-like root dotfiles of a fresh Debian (base-files' /usr/share/base-files/dot.bashrc and profile). */
const DEBIAN_ROOT_BASHRC = [
  '# ~/.bashrc: executed by bash(1) for non-login shells.',
  '',
  '# Note: PS1 is set in /etc/profile, and the default umask is defined',
  '# in /etc/login.defs. You should not need this unless you want different',
  '# defaults for root.',
  "# PS1='${debian_chroot:+($debian_chroot)}\\h:\\w\\$ '",
  '# umask 022',
  '',
].join('\n');
const DEBIAN_ROOT_PROFILE = [
  '# ~/.profile: executed by Bourne-compatible login shells.',
  '',
  'if [ "$BASH" ]; then',
  '  if [ -f ~/.bashrc ]; then',
  '    . ~/.bashrc',
  '  fi',
  'fi',
  '',
  'mesg n 2> /dev/null || true',
  '',
].join('\n');

/** `openssl req` arguments for a new unencrypted P-256 key (the CA's and every certificate's). */
const OPENSSL_NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** `mount -t TYPE -o OPTIONS SOURCE TARGET` inside the mount namespace of process `pid` (never this machine's). */
async function mountIn(
  pid: number,
  type: string,
  source: string,
  options: string,
  target: string,
): Promise<void> {
  await must('nsenter', ['-t', String(pid), '-m', '--', 'mount', '-t', type, '-o', options, source, target]);
}

/** Is `path` the directory `dir` or inside it? (both absolute, normalised) */
function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** A node's own copies (overlayfs on this machine's directories), in mount order. */
const NODE_OVERLAYS = ['etc', 'opt', 'root', 'home', 'var'];
/** A node's own empty scratch directories (tmpfs), mounted after the overlays. */
const NODE_TMPFS = ['/tmp', '/var/tmp'];

/** The plugins the seed's node had in /opt/cni/bin. */
const CNI_PLUGINS = [
  'bridge',
  'calico',
  'calico-ipam',
  'dhcp',
  'flannel',
  'host-local',
  'ipvlan',
  'loopback',
  'macvlan',
  'portmap',
  'ptp',
  'sample',
  'tuning',
  'vlan',
];

/** Stand-ins for the plugin binaries: they answer like the real ones do when run without CNI_COMMAND (seed). */
function cniStandIn(plugin: string): string {
  return [
    '#!/bin/sh',
    `# LabDeck sandbox stand-in for the CNI plugin "${plugin}" (no real plugin runs here).`,
    'if [ -z "$CNI_COMMAND" ]; then',
    "  echo 'CNI_COMMAND env variable missing'",
    '  printf \'{\\n    "code": 100,\\n    "msg": "required env variables missing"\\n}\'',
    '  exit 1',
    'fi',
    `echo '{"code": 4, "msg": "LabDeck sandbox: ${plugin} is a stand-in and does not run CNI commands"}'`,
    'exit 1',
    '',
  ].join('\n');
}

/** A Calico conflist shaped like the seed's, for the Kubernetes datastore Calico uses today. */
function calicoConflist(node: string): string {
  return `${JSON.stringify(
    {
      name: 'k8s-pod-network',
      cniVersion: '0.3.1',
      plugins: [
        {
          type: 'calico',
          log_level: 'info',
          log_file_path: '/var/log/calico/cni/cni.log',
          datastore_type: 'kubernetes',
          nodename: node,
          mtu: 0,
          ipam: { type: 'calico-ipam' },
          policy: { type: 'k8s' },
          kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' },
        },
        { type: 'portmap', snat: true, capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    },
    null,
    2,
  )}\n`;
}
