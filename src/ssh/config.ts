import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, hostname as osHostname, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { matchPattern, matchPatternList } from './pattern.js';
import {
  defaultKeepalive,
  parseLocalForward,
  type HostKeyPolicy,
  type LocalForwardSpec,
  type SshAuthMethod,
  type SshHop,
  type SshProfile,
} from './profile.js';

/**
 * OpenSSH client configuration → profiles (ssh_config(5)). The `ssh-config` package tokenizes the files
 * (quoting, `=` separators, sections); evaluation is ours, because its `compute()` runs `Match exec`
 * commands and `nslookup`, which a workbench must never do on a config it merely reads.
 * First obtained value wins, as in OpenSSH; command-line options come before any file.
 */

export interface SshConfigDiagnostic {
  readonly code:
    | 'ssh-config-unreadable'
    | 'ssh-config-match-unsupported'
    | 'ssh-config-unsupported-keyword'
    | 'ssh-config-bad-value'
    | 'ssh-config-proxycommand-shell'
    | 'ssh-config-include-depth'
    | 'ssh-config-jump-depth';
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Options given on the command line (`-o Key=Value`, `-i`, `-p`, `-l`, `-J`, `-A`, `-L`), lowercased keys. */
export type SshOptionOverrides = ReadonlyArray<readonly [key: string, value: string]>;

export interface SshConfigEnv {
  readonly home: string;
  readonly localUser: string;
  readonly localHost: string;
  readonly uid: number;
  readonly sshAuthSock: string | undefined;
  /** `-F` file, or `~/.ssh/config` (missing is fine). `'none'` reads no file, as `ssh -F none`. */
  readonly configFile: string | undefined;
}

export function defaultSshConfigEnv(configFile?: string): SshConfigEnv {
  let user = process.env.USER ?? '';
  try {
    user = userInfo().username;
  } catch {
    // userInfo throws for uids without a passwd entry; fall back to $USER.
  }
  return {
    home: homedir(),
    localUser: user,
    localHost: osHostname(),
    uid: process.getuid?.() ?? 0,
    sshAuthSock: process.env.SSH_AUTH_SOCK,
    configFile,
  };
}

interface Setting {
  readonly values: readonly string[];
  readonly file: string;
  readonly line: number;
}

/** Keywords we understand. Multi-valued ones accumulate over every matching block. */
const accumulating = new Set(['identityfile', 'localforward', 'certificatefile']);
const understood = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxyjump',
  'proxycommand',
  'forwardagent',
  'localforward',
  'serveraliveinterval',
  'serveralivecountmax',
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'hashknownhosts',
  'hostkeyalias',
  'connecttimeout',
  'passwordauthentication',
  'kbdinteractiveauthentication',
  'pubkeyauthentication',
  'batchmode',
]);
/** Keywords that change nothing about how we connect (display, multiplexing, environment of OpenSSH itself). */
const harmless = new Set([
  'loglevel',
  'visualhostkey',
  'compression',
  'controlmaster',
  'controlpath',
  'controlpersist',
  'tcpkeepalive',
  'addkeystoagent',
  'usekeychain',
  'sendenv',
  'gssapiauthentication',
  'gssapidelegatecredentials',
  'checkhostip',
  'updatehostkeys',
  'requesttty',
  'ignoreunknown',
  'hostkeyalgorithms',
  'kexalgorithms',
  'ciphers',
  'macs',
  'pubkeyacceptedkeytypes',
  'pubkeyacceptedalgorithms',
  'serveraliveinterval',
  'exitonforwardfailure',
  'loglevel',
]);

interface ParsedFile {
  readonly file: string;
  readonly lines: readonly Line[];
  readonly lineNo: Map<Line, number>;
}

export class SshConfigReader {
  private readonly cache = new Map<string, ParsedFile | string>();
  readonly diagnostics: SshConfigDiagnostic[] = [];
  private readonly reported = new Set<string>();

  constructor(
    private readonly env: SshConfigEnv,
    private readonly fsRead: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ) {}

  private report(d: SshConfigDiagnostic): void {
    const key = `${d.code}|${d.file}|${d.line}|${d.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push(d);
  }

  private parseFile(file: string, mustExist: boolean): ParsedFile | undefined {
    const cached = this.cache.get(file);
    if (cached !== undefined) return typeof cached === 'string' ? undefined : cached;
    let text: string;
    try {
      text = this.fsRead(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.cache.set(file, 'missing');
      if (code !== 'ENOENT' || mustExist)
        this.report({
          code: 'ssh-config-unreadable',
          severity: 'error',
          file,
          line: 0,
          message: `cannot read ssh config ${file}: ${(err as Error).message}`,
        });
      return undefined;
    }
    const lines = SSHConfig.parse(text);
    const lineNo = new Map<Line, number>();
    let nl = 0;
    const walk = (ls: readonly Line[]): void => {
      for (const l of ls) {
        nl += countNl(l.before);
        lineNo.set(l, nl + 1);
        if (l.type === LineType.DIRECTIVE && 'config' in l) {
          nl += countNl(l.after);
          walk(l.config);
        } else nl += countNl(l.after);
      }
    };
    walk(lines);
    const parsed = { file, lines, lineNo };
    this.cache.set(file, parsed);
    return parsed;
  }

  /** All settings for one host name, first value wins (accumulating keywords collect every value). */
  collect(host: string, overrides: SshOptionOverrides): Map<string, Setting> {
    const out = new Map<string, Setting>();
    const set = (key: string, values: readonly string[], file: string, line: number): void => {
      const k = key.toLowerCase();
      // ProxyJump and ProxyCommand exclude each other: whichever is obtained first wins (ssh_config(5)).
      if ((k === 'proxyjump' || k === 'proxycommand') && (out.has('proxyjump') || out.has('proxycommand')))
        return;
      const prev = out.get(k);
      if (accumulating.has(k)) {
        out.set(k, { values: [...(prev?.values ?? []), ...values], file, line });
      } else if (prev === undefined) out.set(k, { values, file, line });
    };
    for (const [k, v] of overrides) set(k, [v], '(command line)', 0);
    const configFile = this.env.configFile ?? join(this.env.home, '.ssh', 'config');
    if (configFile !== 'none') {
      const top = this.parseFile(configFile, this.env.configFile !== undefined);
      if (top) this.walk(top, top.lines, true, host, set, 0);
    }
    return out;
  }

  private walk(
    pf: ParsedFile,
    lines: readonly Line[],
    active: boolean,
    host: string,
    set: (key: string, values: readonly string[], file: string, line: number) => void,
    depth: number,
  ): void {
    let on = active;
    for (const l of lines) {
      if (l.type !== LineType.DIRECTIVE) continue;
      const param = l.param.toLowerCase();
      const values = valuesOf(l.value);
      const line = pf.lineNo.get(l) ?? 0;
      if (param === 'host') {
        // A Host line inside an included file scopes only within that file (ssh_config(5) Include).
        on = active && matchPatternList(values, host) === 1;
        if ('config' in l) this.walk(pf, l.config, on, host, set, depth);
        continue;
      }
      if (param === 'match') {
        this.report({
          code: 'ssh-config-match-unsupported',
          severity: 'warning',
          file: pf.file,
          line,
          message: `${pf.file}:${line}: "Match ${values.join(' ')}" is not supported; the settings in this block were NOT applied to any host`,
        });
        on = false;
        if ('config' in l) this.walk(pf, l.config, false, host, set, depth);
        continue;
      }
      if (!on) continue;
      if (param === 'include') {
        if (depth >= 16) {
          this.report({
            code: 'ssh-config-include-depth',
            severity: 'error',
            file: pf.file,
            line,
            message: `${pf.file}:${line}: Include nested more than 16 deep`,
          });
          continue;
        }
        for (const v of values) {
          for (const f of this.expandInclude(v)) {
            const inc = this.parseFile(f, false);
            if (inc) this.walk(inc, inc.lines, true, host, set, depth + 1);
          }
        }
        continue;
      }
      if (!understood.has(param) && !harmless.has(param)) {
        this.report({
          code: 'ssh-config-unsupported-keyword',
          severity: 'warning',
          file: pf.file,
          line,
          message: `${pf.file}:${line}: "${l.param}" is not supported by LabDeck and has no effect`,
        });
        continue;
      }
      set(param, values, pf.file, line);
    }
  }

  /** Include paths: `~` expanded, relative ones under ~/.ssh, a `*`/`?` glob in the last component. */
  private expandInclude(spec: string): string[] {
    let p = spec.startsWith('~') ? join(this.env.home, spec.slice(1)) : spec;
    if (!isAbsolute(p)) p = join(this.env.home, '.ssh', p);
    const dir = dirname(p);
    const base = basename(p);
    if (!/[*?]/.test(base)) return [p];
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => matchPattern(base, n) && !n.startsWith('.'))
      .sort()
      .map((n) => join(dir, n))
      .filter((f) => {
        try {
          return statSync(f).isFile();
        } catch {
          return false;
        }
      });
  }
}

function countNl(s: string | undefined): number {
  let n = 0;
  for (const c of s ?? '') if (c === '\n') n++;
  return n;
}

function valuesOf(v: string | { val: string }[]): string[] {
  return typeof v === 'string' ? [v] : v.map((x) => x.val);
}

export interface ResolveResult {
  readonly profile: SshProfile | undefined;
  readonly diagnostics: readonly SshConfigDiagnostic[];
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, with `[v6]` brackets. */
export function parseDestination(dest: string): { user?: string; host: string; port?: number } | string {
  let d = dest.startsWith('ssh://') ? dest.slice(6) : dest;
  let user: string | undefined;
  const at = d.lastIndexOf('@');
  if (at >= 0) {
    user = d.slice(0, at);
    d = d.slice(at + 1);
  }
  let port: number | undefined;
  let host = d;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(d) ?? /^([^:]+)(?::(\d+))?$/.exec(d);
  if (!m) return `bad destination ${JSON.stringify(dest)}`;
  host = m[1] as string;
  if (m[2] !== undefined) {
    port = Number(m[2]);
    if (port < 1 || port > 65535) return `bad port in ${JSON.stringify(dest)}`;
  }
  if (host === '' || user === '') return `bad destination ${JSON.stringify(dest)}`;
  return { user, host, port };
}

const defaultIdentityFiles = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_dsa'];

/**
 * Resolves a destination into a profile: the target hop with its settings and the jump hops before it
 * (ProxyJump, or a ProxyCommand of the `ssh … -W %h:%p` / `ssh … nc %h %p` shape), each hop resolved
 * through the same config under its own name.
 */
export function resolveProfile(
  destination: string,
  env: SshConfigEnv,
  overrides: SshOptionOverrides = [],
  reader: SshConfigReader = new SshConfigReader(env),
): ResolveResult {
  const fatal: string[] = [];
  const chain = resolveChain(destination, env, overrides, reader, 0, fatal);
  const diagnostics = [...reader.diagnostics];
  for (const msg of fatal)
    diagnostics.push({ code: 'ssh-config-bad-value', severity: 'error', file: '', line: 0, message: msg });
  if (!chain || diagnostics.some((d) => d.severity === 'error')) return { profile: undefined, diagnostics };
  return {
    profile: { target: chain.hop, jumps: chain.jumps, forwards: chain.forwards },
    diagnostics,
  };
}

interface Chain {
  hop: SshHop;
  jumps: SshHop[];
  forwards: LocalForwardSpec[];
}

function resolveChain(
  destination: string,
  env: SshConfigEnv,
  overrides: SshOptionOverrides,
  reader: SshConfigReader,
  depth: number,
  fatal: string[],
): Chain | undefined {
  if (depth > 8) {
    fatal.push(`jump chain for ${destination} is more than 8 hops deep (a loop in ProxyJump/ProxyCommand?)`);
    return undefined;
  }
  const dest = parseDestination(destination);
  if (typeof dest === 'string') {
    fatal.push(dest);
    return undefined;
  }
  const ov: [string, string][] = [];
  if (dest.user !== undefined) ov.push(['user', dest.user]);
  if (dest.port !== undefined) ov.push(['port', String(dest.port)]);
  const s = reader.collect(dest.host, [...ov, ...overrides]);
  const first = (k: string): string | undefined => s.get(k)?.values[0];
  const where = (k: string): string => {
    const st = s.get(k);
    return st ? `${st.file}${st.line ? `:${st.line}` : ''}` : '';
  };
  const bad = (k: string, why: string): undefined => {
    fatal.push(`${where(k)}: ${k} ${why}`);
    return undefined;
  };
  const yesNo = (k: string, dflt: boolean): boolean => {
    const v = first(k)?.toLowerCase();
    if (v === undefined) return dflt;
    if (v === 'yes' || v === 'true') return true;
    if (v === 'no' || v === 'false') return false;
    bad(k, `must be yes or no, not ${JSON.stringify(v)}`);
    return dflt;
  };
  const hostName = first('hostname')?.replace(/%h/g, dest.host).replace(/%%/g, '%') ?? dest.host;
  const user = first('user') ?? env.localUser;
  const portText = first('port') ?? '22';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    return bad('port', `bad port ${JSON.stringify(portText)}`);
  const tokens = (t: string): string =>
    t.replace(/%([%dhnpruiLl])/g, (_, c: string) => {
      switch (c) {
        case '%':
          return '%';
        case 'd':
          return env.home;
        case 'h':
          return hostName;
        case 'n':
          return dest.host;
        case 'p':
          return String(port);
        case 'r':
          return user;
        case 'u':
          return env.localUser;
        case 'i':
          return String(env.uid);
        case 'L':
          return env.localHost.split('.')[0] ?? env.localHost;
        default:
          return env.localHost;
      }
    });
  const path = (t: string): string => {
    const x = tokens(t);
    return x === '~' ? env.home : x.startsWith('~/') ? join(env.home, x.slice(2)) : x;
  };

  // Authentication methods in OpenSSH's default order: publickey (agent, then files), keyboard-interactive, password.
  const auth: SshAuthMethod[] = [];
  const identitiesOnly = yesNo('identitiesonly', false);
  const agentSetting = first('identityagent');
  const agentSock =
    agentSetting === undefined || agentSetting === 'SSH_AUTH_SOCK'
      ? env.sshAuthSock
      : agentSetting.toLowerCase() === 'none'
        ? undefined
        : path(agentSetting.replace(/^\$SSH_AUTH_SOCK$/, env.sshAuthSock ?? ''));
  const explicitFiles = s.get('identityfile')?.values ?? [];
  if (yesNo('pubkeyauthentication', true)) {
    if (agentSock && !identitiesOnly) auth.push({ kind: 'agent', socket: agentSock });
    if (explicitFiles.length > 0) {
      for (const f of explicitFiles)
        if (f.toLowerCase() !== 'none') auth.push({ kind: 'publickey', identityFile: path(f) });
    } else {
      for (const f of defaultIdentityFiles)
        auth.push({ kind: 'publickey', identityFile: join(env.home, '.ssh', f), optional: true });
    }
  }
  const batch = yesNo('batchmode', false);
  if (yesNo('kbdinteractiveauthentication', true) && !batch) auth.push({ kind: 'keyboard-interactive' });
  if (yesNo('passwordauthentication', true) && !batch) auth.push({ kind: 'password' });

  let policy: HostKeyPolicy = 'ask';
  const strict = first('stricthostkeychecking')?.toLowerCase();
  if (strict === 'yes' || strict === 'true') policy = 'yes';
  else if (strict === 'accept-new') policy = 'accept-new';
  else if (strict === 'no' || strict === 'off' || strict === 'false') {
    // We never go below accept-new: an unknown key is remembered, a changed key is still refused.
    policy = 'accept-new';
    reader.diagnostics.push({
      code: 'ssh-config-bad-value',
      severity: 'warning',
      file: where('stricthostkeychecking').replace(/:\d+$/, ''),
      line: s.get('stricthostkeychecking')?.line ?? 0,
      message: `${where('stricthostkeychecking')}: StrictHostKeyChecking ${strict} is treated as accept-new (changed keys are always refused)`,
    });
  } else if (strict !== undefined && strict !== 'ask')
    return bad('stricthostkeychecking', `bad value ${strict}`);
  if (batch && policy === 'ask') policy = 'yes';

  const userKh = s.get('userknownhostsfile')?.values ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
  const globalKh = s.get('globalknownhostsfile')?.values ?? [
    '/etc/ssh/ssh_known_hosts',
    '/etc/ssh/ssh_known_hosts2',
  ];
  const knownHostsFiles = [...userKh, ...globalKh].filter((f) => f.toLowerCase() !== 'none').map(path);
  if (knownHostsFiles.length === 0)
    return bad('userknownhostsfile', 'leaves no known_hosts file to check keys against');

  const num = (k: string, dflt: number, min: number): number => {
    const v = first(k);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min) {
      bad(k, `must be a whole number ≥ ${min}, not ${JSON.stringify(v)}`);
      return dflt;
    }
    return Number(v);
  };
  const aliveS = num('serveraliveinterval', defaultKeepalive.intervalMs / 1000, 0);
  const keepalive = {
    // ServerAliveInterval 0 means off in OpenSSH; we keep ours on (a dead bastion must be noticed).
    intervalMs: (aliveS === 0 ? defaultKeepalive.intervalMs / 1000 : aliveS) * 1000,
    countMax: num('serveralivecountmax', defaultKeepalive.countMax, 1),
  };

  const forwards: LocalForwardSpec[] = [];
  for (const spec of s.get('localforward')?.values ?? []) {
    const f = parseLocalForward(spec);
    if (typeof f === 'string') bad('localforward', f);
    else forwards.push(f);
  }
  const hop: SshHop = {
    name: dest.host,
    host: hostName,
    port,
    user,
    hostKeyAlias: first('hostkeyalias'),
    auth,
    forwardAgent: yesNo('forwardagent', false),
    hostKeyPolicy: policy,
    knownHostsFiles,
    hashKnownHosts: yesNo('hashknownhosts', false),
    keepalive,
    connectTimeoutMs: num('connecttimeout', 30, 1) * 1000,
    transport: { kind: 'tcp' },
  };

  // At most one of ProxyJump and ProxyCommand is set: collect() keeps whichever came first, as OpenSSH does.
  const proxyJump = first('proxyjump');
  let proxyCommand = s.get('proxycommand')?.values;
  // From the command line (-o ProxyCommand=...) the value is one string: tokenize it as a config line would be.
  if (proxyCommand?.length === 1 && /\s/.test(proxyCommand[0] as string)) {
    const line = SSHConfig.parse(`ProxyCommand ${proxyCommand[0] as string}`)[0];
    if (line?.type === LineType.DIRECTIVE) proxyCommand = valuesOf(line.value);
  }
  let jumps: SshHop[] = [];
  if (proxyJump !== undefined && proxyJump.toLowerCase() !== 'none') {
    const list = proxyJump.split(',').map((x) => x.trim());
    // `-J a,b`: a is dialled directly (its own config, including its own jumps); each next hop goes through
    // the previous one, so the later hops' own ProxyJump settings are overridden (as OpenSSH does).
    list.forEach((j, i) => {
      const sub = resolveChain(j, env, i === 0 ? [] : [['proxyjump', 'none']], reader, depth + 1, fatal);
      if (sub) jumps.push(...(i === 0 ? sub.jumps : []), sub.hop);
    });
  } else if (
    proxyCommand !== undefined &&
    !(proxyCommand.length === 1 && proxyCommand[0]?.toLowerCase() === 'none')
  ) {
    const pc = proxyCommandToHops(
      proxyCommand,
      { host: hostName, port, user },
      env,
      reader,
      depth,
      fatal,
      where('proxycommand'),
    );
    if (pc === undefined) return undefined;
    if (pc.kind === 'jump') jumps = pc.jumps;
    else return { hop: { ...hop, transport: { kind: 'command', argv: pc.argv } }, jumps: [], forwards };
  }
  return { hop, jumps, forwards };
}

/** OpenSSH client flags that take an argument (ssh.c getopt string). */
const sshFlagsWithArg = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split(''));

type ProxyCommandPlan = { kind: 'jump'; jumps: SshHop[] } | { kind: 'command'; argv: string[] };

/**
 * ProxyCommand → a plan. `ssh [opts] jumphost -W %h:%p` and `ssh [opts] jumphost nc %h %p` (the seed's form)
 * become a jump through `jumphost` with the options given there; anything else runs as a local process
 * with `%h %p %r` substituted per argument, never through a shell (a value with shell syntax is refused).
 */
function proxyCommandToHops(
  words: readonly string[],
  target: { host: string; port: number; user: string },
  env: SshConfigEnv,
  reader: SshConfigReader,
  depth: number,
  fatal: string[],
  where: string,
): ProxyCommandPlan | undefined {
  const argv = words[0] === 'exec' ? words.slice(1) : [...words];
  const isTargetHost = (x: string | undefined): boolean => x === '%h' || x === target.host;
  const isTargetPort = (x: string | undefined): boolean => x === '%p' || x === String(target.port);
  if (argv.length > 0 && basename(argv[0] as string) === 'ssh') {
    const ov: [string, string][] = [];
    let dest: string | undefined;
    let rest: string[] = [];
    let w: string | undefined;
    let configFile: string | undefined;
    let ok = true;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i] as string;
      if (dest !== undefined) {
        rest = argv.slice(i);
        break;
      }
      if (a === '--') {
        dest = argv[i + 1];
        rest = argv.slice(i + 2);
        break;
      }
      if (!a.startsWith('-') || a === '-') {
        dest = a;
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const f = a[j] as string;
        if (!sshFlagsWithArg.has(f)) {
          if (f === 'A') ov.push(['forwardagent', 'yes']);
          continue;
        }
        const val = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (val === undefined) ok = false;
        else if (f === 'i') ov.push(['identityfile', val]);
        else if (f === 'p') ov.push(['port', val]);
        else if (f === 'l') ov.push(['user', val]);
        else if (f === 'J') ov.push(['proxyjump', val]);
        else if (f === 'W') w = val;
        else if (f === 'F') configFile = val;
        else if (f === 'o') {
          const m = /^\s*([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(val);
          if (m) ov.push([(m[1] as string).toLowerCase(), m[2] as string]);
          else ok = false;
        }
        break;
      }
    }
    const ncForm =
      rest.length === 3 &&
      /^(nc|netcat|ncat)$/.test(basename(rest[0] as string)) &&
      isTargetHost(rest[1]) &&
      isTargetPort(rest[2]);
    const wForm = w !== undefined && rest.length === 0 && /^(%h|\[%h\]):%p$/.test(w);
    if (ok && dest !== undefined && (ncForm || wForm)) {
      const sub = resolveChain(
        dest,
        configFile === undefined ? env : { ...env, configFile },
        ov,
        configFile === undefined ? reader : new SshConfigReader({ ...env, configFile }),
        depth + 1,
        fatal,
      );
      if (!sub) return undefined;
      return { kind: 'jump', jumps: [...sub.jumps, sub.hop] };
    }
  }
  // A shell as the command would interpolate %h/%p into a script: refused, like shell syntax.
  const shells = /^(sh|bash|dash|zsh|ksh|fish|busybox)$/;
  for (const a of argv) {
    if (/^[|&;<>]+$/.test(a) || /[$`]/.test(a) || (a === argv[0] && shells.test(basename(a)))) {
      fatal.push(
        `${where}: ProxyCommand ${JSON.stringify(argv.join(' '))} uses shell syntax (${JSON.stringify(a)}); LabDeck runs a ProxyCommand as one process without a shell — use ProxyJump, or a plain command`,
      );
      return undefined;
    }
  }
  const sub = argv.map((a) =>
    a.replace(/%([%hpr])/g, (_, c: string) =>
      c === '%' ? '%' : c === 'h' ? target.host : c === 'p' ? String(target.port) : target.user,
    ),
  );
  if (sub.length === 0) {
    fatal.push(`${where}: empty ProxyCommand`);
    return undefined;
  }
  return { kind: 'command', argv: sub };
}
