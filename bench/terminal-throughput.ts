// Terminal throughput and keystroke latency (issue 2, "Done when"). Run: npx tsx bench/terminal-throughput.ts [MB]
//
// Throughput: the same bytes (a file of terminal-like text: plain lines and SGR-coloured `ls`/kubectl-style
// lines) reach @xterm/headless four ways, in this one process and run:
//   raw      written straight into headless (the reference, no pty)                      — "raw headless"
//   bare     a bare node-pty running `cat file` → headless, no flow control               — the pty's ceiling
//   ours     TerminalManager (bash + hooks, flow control, mark parsing, block capture,
//            coalescing) running `cat file` → headless, acking after each write callback  — the product
//   pipe     our session pipeline fed in-process (no pty) with the same chunks            — our overhead alone
// Latency: keystroke → echo, p50/p95 over interleaved rounds, for a bare node-pty bash vs our session.
// Ratios are against the reference measured in the same run; nothing here is asserted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import xtermHeadless from '@xterm/headless';
import { spawn } from 'node-pty';
import { TerminalManager } from '../src/terminal/terminalManager.js';
import { TerminalSessionImpl, type TerminalBackend } from '../src/terminal/terminalSession.js';
import type { Disposable, TerminalExit } from '../src/terminal/types.js';

const { Terminal } = xtermHeadless;
type Headless = InstanceType<typeof Terminal>;

const megabytes = Number(process.argv[2] ?? 16);
const latencySamples = 400;

function newHeadless(): Headless {
  return new Terminal({ cols: 120, rows: 40, scrollback: 1000, allowProposedApi: true });
}

/** Terminal-like text: plain lines and lines with SGR colours, about `bytes` long, LF line ends. */
function makePayload(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line =
      i % 3 === 0
        ? `kube-system   kube-proxy-${(i * 7919).toString(36).padStart(5, 'x')}   1/1   Running   0   ${i % 97}d   10.244.${i % 255}.${(i * 3) % 255}   node-${i % 3}`
        : i % 3 === 1
          ? `\x1b[0m\x1b[01;34mdir${i}\x1b[0m  \x1b[01;32mscript${i}.sh\x1b[0m  plain-file-${i}.txt  \x1b[01;36mlink${i}\x1b[0m -> target`
          : `-A KUBE-SVC-${(i * 104729).toString(36).toUpperCase().padStart(16, 'Q')} -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-${i}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

function writeAll(term: Headless, data: string, chunk: number): Promise<void> {
  return new Promise((resolve) => {
    for (let i = 0; i < data.length; i += chunk) {
      const last = i + chunk >= data.length;
      term.write(data.slice(i, i + chunk), last ? resolve : undefined);
    }
  });
}

async function measureRaw(ptyText: string): Promise<number> {
  const term = newHeadless();
  const t0 = performance.now();
  await writeAll(term, ptyText, 4096);
  const ms = performance.now() - t0;
  term.dispose();
  return ms;
}

async function measureBare(file: string, expectChars: number): Promise<number> {
  const term = newHeadless();
  // The sleep keeps the pty open: node-pty can drop the last few KB a process writes just before it exits.
  const pty = spawn('/bin/sh', ['-c', `cat '${file}'; sleep 5`], {
    cols: 120,
    rows: 40,
    env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string>,
  });
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    pty.onData((d) => {
      got += d.length;
      const done = got >= expectChars;
      term.write(d, done ? resolve : undefined);
    });
  });
  const ms = performance.now() - t0;
  pty.kill();
  term.dispose();
  return ms;
}

async function measureOurs(manager: TerminalManager, file: string, expectChars: number): Promise<number> {
  const term = newHeadless();
  const session = manager.createLocal({ shell: 'bash', cols: 120, rows: 40 });
  let counting = false;
  let got = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  session.onData((d) => {
    term.write(d, () => {
      session.acknowledge(d.length);
      if (counting) {
        got += d.length;
        if (got >= expectChars) resolveDone();
      }
    });
  });
  await new Promise<void>((r) => {
    const sub = session.onMark((m) => {
      if (m.type === 'commandStart') {
        sub.dispose();
        r();
      }
    });
  });
  const t0 = performance.now();
  counting = true;
  const block = await session.run(`cat ${file}`);
  await done;
  const ms = performance.now() - t0;
  if (block.exitCode !== 0) throw new Error(`cat exited ${block.exitCode}`);
  manager.close(session.id);
  term.dispose();
  return ms;
}

/** An in-process producer that respects pause/resume: our pipeline without a pty. */
class ChunkBackend implements TerminalBackend {
  readonly pid = null;
  private listener: (d: string) => void = () => {};
  private paused = false;
  private pos = 0;
  constructor(
    private readonly data: string,
    private readonly chunk: number,
  ) {}
  processName(): string | null {
    return null;
  }
  onData(l: (d: string) => void): Disposable {
    this.listener = l;
    return { dispose: () => (this.listener = () => {}) };
  }
  onExit(_l: (e: TerminalExit) => void): Disposable {
    return { dispose: () => {} };
  }
  write(): void {}
  resize(): void {}
  kill(): void {}
  dispose(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    setImmediate(() => this.pump());
  }
  pump(): void {
    // Like a socket: a few chunks per event-loop turn while not paused.
    for (let n = 0; n < 16 && !this.paused && this.pos < this.data.length; n++) {
      this.listener(this.data.slice(this.pos, this.pos + this.chunk));
      this.pos += this.chunk;
    }
    if (!this.paused && this.pos < this.data.length) setImmediate(() => this.pump());
  }
}

async function measurePipe(ptyText: string): Promise<number> {
  const term = newHeadless();
  const backend = new ChunkBackend(ptyText, 4096);
  const session = new TerminalSessionImpl({
    id: 'bench',
    kind: 'replay',
    shell: 'bash',
    cols: 120,
    rows: 40,
    backend,
    nonce: '0123456789abcdef0123456789abcdef',
  });
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    session.onData((d) => {
      term.write(d, () => {
        session.acknowledge(d.length);
        got += d.length;
        if (got >= ptyText.length) resolve();
      });
    });
    backend.pump();
  });
  const ms = performance.now() - t0;
  session.dispose();
  term.dispose();
  return ms;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** One keystroke: writes a character and times until its echo arrives. */
function echoOnce(
  write: (s: string) => void,
  onData: (l: (d: string) => void) => Disposable,
  ch: string,
): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sub = onData((d) => {
      if (d.includes(ch)) {
        sub.dispose();
        resolve(performance.now() - t0);
      }
    });
    write(ch);
  });
}

async function measureLatency(
  manager: TerminalManager,
  env: Record<string, string>,
): Promise<{ bare: number[]; ours: number[] }> {
  const bare = spawn('/bin/bash', ['--norc', '--noprofile', '-i'], { cols: 120, rows: 40, env });
  const session = manager.createLocal({ shell: 'bash', cols: 120, rows: 40 });
  session.onData((d) => session.acknowledge(d.length));
  await new Promise((r) => setTimeout(r, 1500)); // both prompts up
  const out = { bare: [] as number[], ours: [] as number[] };
  const sides = [
    {
      samples: out.bare,
      write: (s: string) => bare.write(s),
      onData: (l: (d: string) => void) => bare.onData(l),
    },
    {
      samples: out.ours,
      write: (s: string) => session.write(s),
      onData: (l: (d: string) => void) => session.onData(l),
    },
  ];
  // Alternate the two sides keystroke by keystroke so that machine noise hits both alike.
  for (let i = 0; i < latencySamples; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
      side.samples.push(await echoOnce(side.write, side.onData, ch));
      await new Promise((r) => setTimeout(r, 2));
    }
    if (i % 40 === 39) for (const side of sides) side.write('\x15'); // Ctrl-U: clear the typed line
  }
  bare.kill();
  manager.close(session.id);
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'labdeck-bench-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { HOME: dir, HISTFILE: '/dev/null', TERM: 'xterm-256color' });
  const manager = new TerminalManager({ env });
  try {
    const payload = makePayload(megabytes * 1_000_000);
    const file = join(dir, 'payload.txt');
    writeFileSync(file, payload);
    // What the pty delivers: the tty turns LF into CR LF (onlcr).
    const ptyText = payload.replace(/\n/g, '\r\n');
    const mb = ptyText.length / 1e6;
    console.log(
      `terminal-throughput: ${mb.toFixed(1)} MB per run (${megabytes} MB file, CR LF added by the tty)`,
    );

    // Warm up JIT and xterm's parser once, then interleave the variants to spread out machine noise.
    await measureRaw(ptyText.slice(0, 2_000_000));
    const results: Record<'raw' | 'bare' | 'ours' | 'pipe', number[]> = {
      raw: [],
      bare: [],
      ours: [],
      pipe: [],
    };
    for (let i = 0; i < 2; i++) {
      results.raw.push(await measureRaw(ptyText));
      results.bare.push(await measureBare(file, ptyText.length));
      results.ours.push(await measureOurs(manager, file, ptyText.length));
      results.pipe.push(await measurePipe(ptyText));
    }
    const rate = (k: keyof typeof results): number => mb / (Math.min(...results[k]) / 1000);
    const raw = rate('raw');
    const line = (k: keyof typeof results, label: string): void =>
      console.log(
        `  ${k.padEnd(5)} ${rate(k).toFixed(1).padStart(6)} MB/s  ratio to raw ${(rate(k) / raw).toFixed(2)}  ${label}`,
      );
    console.log('throughput (best of 2):');
    line('raw', 'straight into @xterm/headless (reference)');
    line('bare', 'bare node-pty `cat` → headless (the pty ceiling)');
    line('ours', 'our session: pty → flow control, marks, capture, coalescing → headless, acked');
    line('pipe', 'our session pipeline without a pty (in-process producer) → headless, acked');
    console.log(
      `  ours / bare ${(rate('ours') / rate('bare')).toFixed(2)} (our cost on top of the pty path)`,
    );
    console.log(`  GOAL ours/raw >= 0.9: ${rate('ours') / raw >= 0.9 ? 'met' : 'not met'}`);

    const lat = await measureLatency(manager, env);
    const bare = [...lat.bare].sort((a, b) => a - b);
    const ours = [...lat.ours].sort((a, b) => a - b);
    const fmt = (x: number): string => `${x.toFixed(2)} ms`;
    console.log(`keystroke → echo (${bare.length} samples each, alternating):`);
    console.log(`  bare node-pty bash  p50 ${fmt(percentile(bare, 50))}  p95 ${fmt(percentile(bare, 95))}`);
    console.log(`  our session         p50 ${fmt(percentile(ours, 50))}  p95 ${fmt(percentile(ours, 95))}`);
    const r95 = percentile(ours, 95) / percentile(bare, 95);
    console.log(
      `  ratio p50 ${(percentile(ours, 50) / percentile(bare, 50)).toFixed(2)}  p95 ${r95.toFixed(2)}  GOAL p95 <= 1.5: ${r95 <= 1.5 ? 'met' : 'not met'}`,
    );
  } finally {
    manager.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
// node-pty can keep a killed pty's read stream open for a while (a zombie not yet reaped); the numbers are
// printed, so do not wait for it.
process.exit(0);
