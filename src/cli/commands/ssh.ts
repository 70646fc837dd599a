import type { Command } from 'commander';
import { ttyPrompts } from '../ttyPrompts.js';
import { SshConnectionFactory, SshError, defaultSshConfigEnv, resolveProfile } from '../../ssh/index.js';

interface SshCliOptions {
  F?: string;
  J?: string;
  i: string[];
  A?: boolean;
  L: string[];
  p?: string;
  l?: string;
  o: string[];
  check?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/**
 * `labdeck ssh`: OpenSSH's meaning for each flag; the remote command's exit code is ours (255 for our own
 * errors, as ssh). Parameters never pass through a local shell.
 */
export function registerSsh(program: Command): void {
  program
    .command('ssh')
    .description('run a command or a shell on a host, through jump hosts, like OpenSSH ssh')
    .usage('[-F config] [-J hop[,hop]] [-i key] [-A] [-L spec] [-p port] [user@]host [-- command]')
    .option('-F <file>', 'ssh_config file (default ~/.ssh/config; "none" reads none)')
    .option('-J <hops>', 'jump hosts, comma separated ([user@]host[:port]), as ProxyJump')
    .option('-i <file>', 'identity (private key) file; may repeat', collect, [])
    .option('-A', 'forward the ssh-agent to the target (never to jump hosts)')
    .option(
      '-L <spec>',
      'local forward [bind_address:]port:host:hostport (127.0.0.1 by default); may repeat',
      collect,
      [],
    )
    .option('-p <port>', 'port on the target')
    .option('-l <user>', 'user on the target')
    .option('-o <option>', 'ssh_config option as Key=Value; may repeat', collect, [])
    .option(
      '--check',
      'print each hop, its host key fingerprint, and whether it is trusted; no login on the last hop',
    )
    .argument('<destination>', '[user@]host[:port] or a Host alias from the config')
    .argument('[command...]', 'remote command (after --)')
    .action(async (destination: string, command: string[], opts: SshCliOptions) => {
      process.exitCode = await runSsh(destination, command, opts);
    });
}

async function runSsh(destination: string, command: string[], opts: SshCliOptions): Promise<number> {
  const overrides: [string, string][] = [];
  for (const o of opts.o) {
    const m = /^\s*([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(o);
    if (!m) {
      process.stderr.write(`labdeck ssh: bad -o option ${JSON.stringify(o)} (expected Key=Value)\n`);
      return 255;
    }
    overrides.push([(m[1] as string).toLowerCase(), m[2] as string]);
  }
  for (const i of opts.i) overrides.push(['identityfile', i]);
  for (const l of opts.L) overrides.push(['localforward', l]);
  if (opts.p !== undefined) overrides.push(['port', opts.p]);
  if (opts.l !== undefined) overrides.push(['user', opts.l]);
  if (opts.J !== undefined) overrides.push(['proxyjump', opts.J]);
  if (opts.A) overrides.push(['forwardagent', 'yes']);

  const { profile, diagnostics } = resolveProfile(destination, defaultSshConfigEnv(opts.F), overrides);
  for (const d of diagnostics) process.stderr.write(`labdeck ssh: ${d.severity}: ${d.message}\n`);
  if (!profile) return 255;

  const factory = new SshConnectionFactory({ prompts: ttyPrompts() });
  if (opts.check) {
    const rows = await factory.check(profile);
    for (const r of rows)
      process.stdout.write(
        `${r.hop}\t${r.keyType ?? '-'}\t${r.fingerprint ?? '-'}\t${r.status}\t${r.detail}\n`,
      );
    return rows.every((r) => r.status === 'trusted') ? 0 : 1;
  }

  let conn;
  try {
    conn = await factory.connect(profile);
  } catch (err) {
    process.stderr.write(`labdeck ssh: ${err instanceof Error ? err.message : String(err)}\n`);
    return 255;
  }
  try {
    for (const f of profile.forwards) await conn.openLocalForward(f);
    conn.onClose((reason) => process.stderr.write(`labdeck ssh: ${reason.message}\n`));
    if (command.length > 0) {
      // Joined with spaces like ssh does; the remote user's shell interprets it, never ours.
      const r = await conn.exec(command.join(' '), {
        onStdout: (d) => process.stdout.write(d),
        onStderr: (d) => process.stderr.write(d),
        ...(process.stdin.isTTY ? {} : { stdin: await readAll(process.stdin) }),
      });
      return r.code ?? 255;
    }
    return await interactiveShell(conn);
  } catch (err) {
    process.stderr.write(
      `labdeck ssh: ${err instanceof SshError || err instanceof Error ? err.message : String(err)}\n`,
    );
    return 255;
  } finally {
    conn.dispose();
  }
}

async function interactiveShell(conn: Awaited<ReturnType<SshConnectionFactory['connect']>>): Promise<number> {
  const out = process.stdout;
  const shell = await conn.openShell({
    cols: out.columns || 80,
    rows: out.rows || 24,
    term: process.env.TERM,
  });
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const onInput = (d: Buffer): void => shell.write(d);
  const onResize = (): void => shell.resize(out.columns || 80, out.rows || 24);
  stdin.on('data', onInput);
  out.on('resize', onResize);
  shell.onData((d) => {
    // Flow control: a slow terminal pauses the channel.
    if (!out.write(d)) {
      shell.pause();
      out.once('drain', () => shell.resume());
    }
  });
  try {
    const e = await new Promise<{ code: number | null }>((res) => shell.onExit(res));
    return e.code ?? 255;
  } finally {
    stdin.off('data', onInput);
    out.off('resize', onResize);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  }
}

function readAll(s: NodeJS.ReadStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}
