import { readFile } from 'node:fs/promises';
import ssh2, { type AnyAuthMethod, type AuthenticationType, type ParsedKey } from 'ssh2';

// ssh2 is CommonJS; its `utils` is not a statically detectable named export under Node's ESM loader.
const { utils } = ssh2;
import type { SshAuthMethod, SshHop } from './profile.js';

/** What the UI answers. Secrets returned here are handed to ssh2 and never logged or stored. */
export interface SshPrompts {
  /** Unknown host key under policy `ask`: show the fingerprint, let the user decide. */
  hostKey(q: {
    hop: string;
    host: string;
    port: number;
    keyType: string;
    fingerprint: string;
    otherKnownTypes: readonly string[];
  }): Promise<'accept-once' | 'accept-and-remember' | 'reject'>;
  passphrase(q: { hop: string; identityFile: string; attempt: number }): Promise<string | undefined>;
  password(q: { hop: string; user: string; host: string; attempt: number }): Promise<string | undefined>;
  keyboardInteractive(q: {
    hop: string;
    name: string;
    instructions: string;
    prompts: readonly { prompt: string; echo: boolean }[];
  }): Promise<string[] | undefined>;
}

/** Prompts that answer nothing: unknown keys are rejected and no secret is ever supplied (batch mode). */
export const batchPrompts: SshPrompts = {
  hostKey: async () => 'reject',
  passphrase: async () => undefined,
  password: async () => undefined,
  keyboardInteractive: async () => undefined,
};

const serverMethod: Record<SshAuthMethod['kind'], AuthenticationType> = {
  publickey: 'publickey',
  agent: 'publickey',
  password: 'password',
  'keyboard-interactive': 'keyboard-interactive',
};

/**
 * ssh2's `authHandler` driven by the hop's method list, in order. Keys are read and decrypted here so
 * a passphrase can be asked for (up to three times); files that are `optional` and absent are skipped.
 * `tried` collects a human list of what was attempted, for the failure message.
 */
export function makeAuthHandler(
  hop: SshHop,
  hopName: string,
  prompts: SshPrompts,
  tried: string[],
): (
  methodsLeft: AuthenticationType[] | null,
  partial: boolean | null,
  next: (m: AnyAuthMethod | false) => void,
) => void {
  const queue = [...hop.auth];
  let passwordAttempts = 0;
  const nextMethod = async (methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> => {
    for (;;) {
      const m = queue.shift();
      if (m === undefined) return false;
      if (methodsLeft && !methodsLeft.includes(serverMethod[m.kind])) continue;
      switch (m.kind) {
        case 'agent':
          tried.push(`agent (${m.socket})`);
          return { type: 'agent', username: hop.user, agent: m.socket };
        case 'publickey': {
          const key = await loadKey(m.identityFile, hopName, prompts);
          if (typeof key === 'string') {
            // Default identity files that do not exist are skipped silently, as OpenSSH does.
            if (!(m.optional && key === 'missing')) tried.push(`publickey (${m.identityFile}: ${key})`);
            continue;
          }
          tried.push(`publickey (${m.identityFile})`);
          return { type: 'publickey', username: hop.user, key };
        }
        case 'password': {
          const password = await prompts.password({
            hop: hopName,
            user: hop.user,
            host: hop.host,
            attempt: ++passwordAttempts,
          });
          if (password === undefined) continue;
          tried.push('password');
          // OpenSSH asks up to NumberOfPasswordPrompts (3) times.
          if (passwordAttempts < 3) queue.unshift(m);
          return { type: 'password', username: hop.user, password };
        }
        case 'keyboard-interactive':
          tried.push('keyboard-interactive');
          return {
            type: 'keyboard-interactive',
            username: hop.user,
            prompt: (name, instructions, _lang, ps, finish) => {
              prompts
                .keyboardInteractive({
                  hop: hopName,
                  name,
                  instructions,
                  prompts: ps.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
                })
                .then(
                  (answers) => finish(answers ?? []),
                  () => finish([]),
                );
            },
          };
      }
    }
  };
  return (methodsLeft, _partial, next) => {
    nextMethod(methodsLeft).then(next, () => next(false));
  };
}

async function loadKey(file: string, hopName: string, prompts: SshPrompts): Promise<ParsedKey | string> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'missing'
      : `unreadable: ${(err as Error).message}`;
  }
  let parsed = utils.parseKey(data);
  for (let attempt = 1; parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message); attempt++) {
    if (attempt > 3) return 'wrong passphrase';
    const passphrase = await prompts.passphrase({ hop: hopName, identityFile: file, attempt });
    if (passphrase === undefined) return 'no passphrase given';
    parsed = utils.parseKey(data, passphrase);
  }
  if (parsed instanceof Error) return `not a usable private key: ${parsed.message}`;
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  return key ?? 'no key in file';
}
