import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * LabDeck's package root (holds package.json and the app's own labs/), found upwards from this file: it sits in
 * src/api/ in a checkout and is bundled into dist/ in a build.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'labdeck') return dir;
      } catch {
        // not ours, or unreadable: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The version in LabDeck's package.json. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0-unknown';
  }
}

/** Where progress, trust and recordings are kept: a flag, `$LABDECK_DATA_DIR`, or `$XDG_DATA_HOME/labdeck`. */
export function dataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.LABDECK_DATA_DIR) return resolve(env.LABDECK_DATA_DIR);
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'labdeck');
}
