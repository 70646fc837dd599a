import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { fingerprintSha256, hostKeyFromBlob, knownHostsName, type HostKey } from './hostKey.js';
import { matchPatternList } from './pattern.js';

/**
 * OpenSSH known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): `[@marker] hosts keytype base64 [comment]`.
 * Hosts are a comma-separated pattern list (wildcards, `!` negation, `[host]:port`) or one hashed name
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */
export interface KnownHostsEntry {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  readonly text: string;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hosts: { readonly kind: 'patterns'; readonly patterns: readonly string[] } | HashedHost;
  readonly key: HostKey;
}

interface HashedHost {
  readonly kind: 'hashed';
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export interface KnownHostsProblem {
  readonly code: 'known-hosts-malformed' | 'known-hosts-cert-authority-unsupported';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostsEntry[];
  readonly problems: readonly KnownHostsProblem[];
}

/** Total and pure: every line becomes an entry, a comment/blank, or a problem with its line number. */
export function parseKnownHosts(text: string, file: string): ParsedKnownHosts {
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.replace(/\r$/, '');
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const bad = (why: string): void => {
      problems.push({
        code: 'known-hosts-malformed',
        file,
        line: lineNo,
        message: `${file}:${lineNo}: ${why}`,
      });
    };
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return bad(`unknown marker ${JSON.stringify(m)}`);
    }
    const [hostField, type, b64] = fields;
    if (hostField === undefined || type === undefined || b64 === undefined)
      return bad('expected "hosts keytype base64-key"');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return bad('the key is not base64');
    const key = hostKeyFromBlob(Buffer.from(b64, 'base64'));
    if (key === undefined) return bad('the key blob cannot be read');
    if (key.type !== type) return bad(`key type ${type} does not match the key's own type ${key.type}`);
    let hosts: KnownHostsEntry['hosts'];
    if (hostField.startsWith('|')) {
      const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(hostField);
      if (!m) return bad('hashed host name is not |1|salt|hash');
      const salt = Buffer.from(m[1] ?? '', 'base64');
      const hash = Buffer.from(m[2] ?? '', 'base64');
      if (salt.length !== 20 || hash.length !== 20)
        return bad('hashed host name has a bad salt or hash length');
      hosts = { kind: 'hashed', salt, hash };
    } else {
      hosts = { kind: 'patterns', patterns: hostField.split(',') };
    }
    if (marker === 'cert-authority') {
      problems.push({
        code: 'known-hosts-cert-authority-unsupported',
        file,
        line: lineNo,
        message: `${file}:${lineNo}: @cert-authority entries are not supported (host certificates are not checked); this line is ignored`,
      });
    }
    entries.push({ file, line: lineNo, text: line, marker, hosts, key });
  });
  return { entries, problems };
}

export function hashHostName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

function entryMatches(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') return hashHostName(name, entry.hosts.salt).equals(entry.hosts.hash);
  return matchPatternList(entry.hosts.patterns, name) === 1;
}

/** The base algorithm family of a key type: RSA keys are `ssh-rsa` whatever signature algorithm is used. */
function keyFamily(type: string): string {
  return type === 'rsa-sha2-256' || type === 'rsa-sha2-512' ? 'ssh-rsa' : type;
}

export type HostKeyVerdict =
  | { readonly status: 'trusted'; readonly entry: KnownHostsEntry }
  | { readonly status: 'revoked'; readonly entry: KnownHostsEntry }
  | { readonly status: 'changed'; readonly known: readonly KnownHostsEntry[] }
  /** No key of this type is known; `otherTypes` lists keys of other types known for the name (OpenSSH warns). */
  | {
      readonly status: 'unknown';
      readonly otherTypes: readonly KnownHostsEntry[];
      /** e.g. @cert-authority lines that might have vouched for the host but are not supported. */
      readonly notes?: readonly string[];
    }
  /** The files could not be read or hold malformed lines: fail closed. */
  | { readonly status: 'unreadable'; readonly problems: readonly string[] };

/**
 * Pure decision for one presented key under one host name and port, in the spirit of OpenSSH's
 * `check_key_in_hostkeys`, erring towards refusal: a revoked key is refused whatever host line carries it.
 */
export function judgeHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: HostKey,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.blob.equals(key.blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forName = entries.filter((e) => e.marker === undefined && entryMatches(e, name));
  const sameType = forName.filter((e) => keyFamily(e.key.type) === keyFamily(key.type));
  const exact = sameType.find((e) => e.key.blob.equals(key.blob));
  if (exact) return { status: 'trusted', entry: exact };
  if (sameType.length > 0) return { status: 'changed', known: sameType };
  return { status: 'unknown', otherTypes: forName };
}

/** Key types already known for a name, so the client can ask for those first (OpenSSH `order_hostkeyalgs`). */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = new Set<string>();
  for (const e of entries) if (e.marker === undefined && entryMatches(e, name)) types.add(e.key.type);
  return [...types];
}

/** A known_hosts line for a name, plain or hashed (`ssh-keygen -H` style). */
export function formatKnownHostsLine(host: string, port: number, key: HostKey, hashed: boolean): string {
  const name = knownHostsName(host, port);
  let hostField = name;
  if (hashed) {
    const salt = randomBytes(20);
    hostField = `|1|${salt.toString('base64')}|${hashHostName(name, salt).toString('base64')}`;
  }
  return `${hostField} ${key.type} ${key.blob.toString('base64')}`;
}

/**
 * The known_hosts files of one profile: the first file is where decisions are written (OpenSSH writes to
 * the first UserKnownHostsFile). Every read is fresh, so another process's edits are seen; every write is
 * atomic (write-file-atomic: temp file + rename), so a crash never leaves half a file.
 */
export class KnownHostsStore {
  constructor(readonly files: readonly string[]) {
    if (files.length === 0) throw new Error('KnownHostsStore needs at least one known_hosts file');
  }

  /** Reads all files; a missing file is empty, an unreadable one is a problem (fail closed). */
  async load(): Promise<{ entries: KnownHostsEntry[]; problems: KnownHostsProblem[]; fatal: string[] }> {
    const entries: KnownHostsEntry[] = [];
    const problems: KnownHostsProblem[] = [];
    const fatal: string[] = [];
    for (const file of this.files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        fatal.push(`cannot read known_hosts ${file}: ${(err as Error).message}`);
        continue;
      }
      const parsed = parseKnownHosts(text, file);
      entries.push(...parsed.entries);
      problems.push(...parsed.problems);
      for (const p of parsed.problems) if (p.code === 'known-hosts-malformed') fatal.push(p.message);
    }
    return { entries, problems, fatal };
  }

  async judge(host: string, port: number, key: HostKey): Promise<HostKeyVerdict> {
    const { entries, problems, fatal } = await this.load();
    if (fatal.length > 0) return { status: 'unreadable', problems: fatal };
    const verdict = judgeHostKey(entries, host, port, key);
    const notes = problems
      .filter((p) => p.code === 'known-hosts-cert-authority-unsupported')
      .map((p) => p.message);
    return verdict.status === 'unknown' && notes.length > 0 ? { ...verdict, notes } : verdict;
  }

  /** Remembers a newly accepted key (appends one line to the first file). */
  add(host: string, port: number, key: HostKey, hashed = false): Promise<void> {
    const file = this.files[0] as string;
    return withFileLock(file, () => this.append(file, host, port, key, hashed));
  }

  private async append(
    file: string,
    host: string,
    port: number,
    key: HostKey,
    hashed: boolean,
  ): Promise<void> {
    const current = await readOrEmpty(file);
    const sep = current === '' || current.endsWith('\n') ? '' : '\n';
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, `${current}${sep}${formatKnownHostsLine(host, port, key, hashed)}\n`, {
      mode: 0o600,
    });
  }

  /**
   * The explicit "replace key" action after a refusal: drops the lines that named the old key(s) for this
   * host (only those lines, in whichever file they are) and records the new key.
   */
  async replace(
    host: string,
    port: number,
    newKey: HostKey,
    old: readonly KnownHostsEntry[],
    hashed = false,
  ): Promise<void> {
    const byFile = new Map<string, KnownHostsEntry[]>();
    for (const e of old) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
    for (const [file, entries] of byFile) await withFileLock(file, () => this.dropLines(file, entries));
    await this.add(host, port, newKey, hashed);
  }

  private async dropLines(file: string, entries: readonly KnownHostsEntry[]): Promise<void> {
    const all = (await readOrEmpty(file)).split('\n');
    // Only the very lines the refusal showed: if the file moved on since, stop and let the user look again.
    for (const e of entries)
      if (all[e.line - 1]?.replace(/\r$/, '') !== e.text)
        throw new Error(`${file}:${e.line} changed since the host key was refused; check the host again`);
    const lines = new Set(entries.map((e) => e.line));
    const kept = all.filter((_, i) => !lines.has(i + 1));
    await writeFileAtomic(file, kept.join('\n'), { mode: 0o600 });
  }
}

/**
 * known_hosts edits are read-modify-write: two hops accepted at once (or a replace during an add) must not drop
 * each other's line, so edits of one file run one after the other within this process.
 */
const fileLocks = new Map<string, Promise<unknown>>();

function withFileLock<T>(file: string, edit: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(file) ?? Promise.resolve();
  const next = previous.then(edit, edit);
  const settled = next.catch(() => {});
  fileLocks.set(file, settled);
  void settled.then(() => {
    if (fileLocks.get(file) === settled) fileLocks.delete(file);
  });
  return next;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

export { fingerprintSha256 };
