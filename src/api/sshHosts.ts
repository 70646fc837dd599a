import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';

/** `~/x` → the home folder's x, as OpenSSH reads `-F ~/x` after the shell expanded it. */
export function expandHome(file: string): string {
  return file === '~' ? homedir() : file.startsWith('~/') ? join(homedir(), file.slice(2)) : file;
}

/**
 * The Host aliases of an OpenSSH config file, for a connect dialog: patterns with wildcards or negation are left
 * out (they are not places one connects to). A missing file lists nothing.
 */
export function listSshHosts(configFile?: string): string[] {
  const file = configFile ? expandHome(configFile) : join(homedir(), '.ssh', 'config');
  if (file === 'none') return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const hosts = new Set<string>();
  for (const line of SSHConfig.parse(text)) {
    if (!('param' in line) || line.param.toLowerCase() !== 'host') continue;
    const values = Array.isArray(line.value) ? line.value : String(line.value).split(/\s+/);
    for (const v of values) {
      const name = typeof v === 'string' ? v : v.val;
      if (name && !/[*?!]/.test(name)) hosts.add(name);
    }
  }
  return [...hosts];
}
