import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';

/**
 * Trust (docs/labs.md, "Trust"): a lab outside the app's own `labs/` folder runs nothing without asking until
 * the user trusts it. Trust is keyed by a hash of the whole lab folder, so any change makes the lab untrusted
 * again. Only the user's trust store decides; nothing in a lab can switch the prompts off.
 */
const maxFiles = 5_000;
const maxBytes = 200_000_000;

export class LabHashError extends Error {
  override name = 'LabHashError';
}

/** sha256 over every entry of the folder (sorted paths, file contents, link targets; links not followed). */
export function hashLabDir(dir: string): string {
  const h = createHash('sha256');
  let files = 0;
  let bytes = 0;
  const walk = (abs: string): void => {
    const names = readdirSync(abs).sort();
    for (const name of names) {
      const p = join(abs, name);
      const rel = relative(dir, p).split(sep).join('/');
      const st = lstatSync(p);
      if (++files > maxFiles)
        throw new LabHashError(`${dir}: more than ${maxFiles} files; a lab folder should be small`);
      if (st.isSymbolicLink()) {
        h.update(`L\0${rel}\0${readlinkSync(p)}\0`);
      } else if (st.isDirectory()) {
        h.update(`D\0${rel}\0`);
        walk(p);
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > maxBytes) throw new LabHashError(`${dir}: more than ${maxBytes} bytes`);
        h.update(`F\0${rel}\0${st.size}\0`);
        h.update(readFileSync(p));
        h.update('\0');
      } else {
        h.update(`O\0${rel}\0`);
      }
    }
  };
  walk(dir);
  return `sha256:${h.digest('hex')}`;
}

const trustFileSchema = z.strictObject({
  format: z.literal('labdeck-trust'),
  version: z.literal(1),
  trusted: z.array(z.strictObject({ hash: z.string(), path: z.string(), at: z.string() })),
});
type TrustFile = z.infer<typeof trustFileSchema>;

export type TrustState =
  | { readonly trusted: true; readonly reason: 'builtin' | 'trusted-by-user'; readonly hash?: string }
  | {
      readonly trusted: false;
      readonly reason: 'never-trusted' | 'changed-since-trusted';
      readonly hash: string;
    };

export class TrustStore {
  constructor(
    private readonly file: string,
    /** The app's own labs folder: labs inside it are trusted (they ship with the app). */
    private readonly builtinRoot: string,
    private readonly clock: () => number = Date.now,
  ) {}

  private read(): TrustFile {
    try {
      const r = trustFileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (r.success) return r.data;
    } catch {
      // a missing or unreadable store trusts nothing
    }
    return { format: 'labdeck-trust', version: 1, trusted: [] };
  }

  isBuiltin(dir: string): boolean {
    try {
      const root = realpathSync(this.builtinRoot);
      const real = realpathSync(dir);
      const rel = relative(root, real);
      return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && !rel.includes(`..${sep}`);
    } catch {
      return false;
    }
  }

  state(dir: string): TrustState {
    if (this.isBuiltin(dir)) return { trusted: true, reason: 'builtin' };
    const hash = hashLabDir(dir);
    const store = this.read();
    if (store.trusted.some((t) => t.hash === hash)) return { trusted: true, reason: 'trusted-by-user', hash };
    const real = realpathSync(dir);
    const before = store.trusted.some((t) => t.path === real);
    return { trusted: false, reason: before ? 'changed-since-trusted' : 'never-trusted', hash };
  }

  /** The user trusts the lab as it is now (its current hash). */
  async trust(dir: string): Promise<string> {
    const hash = hashLabDir(dir);
    const real = realpathSync(dir);
    const store = this.read();
    const trusted = [
      ...store.trusted.filter((t) => t.path !== real),
      { hash, path: real, at: new Date(this.clock()).toISOString() },
    ];
    mkdirSync(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ ...store, trusted }, null, 2) + '\n', { fsync: true });
    return hash;
  }

  async revoke(dir: string): Promise<void> {
    const real = realpathSync(dir);
    const store = this.read();
    mkdirSync(dirname(this.file), { recursive: true });
    await writeFileAtomic(
      this.file,
      JSON.stringify({ ...store, trusted: store.trusted.filter((t) => t.path !== real) }, null, 2) + '\n',
    );
  }
}
