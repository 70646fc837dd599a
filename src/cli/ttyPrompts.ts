/**
 * The SSH questions of a CLI command (unknown host key, passphrase, password, keyboard-interactive), asked on the
 * controlling terminal as OpenSSH asks them. Without a terminal every question is answered "no" (like BatchMode),
 * so a script never hangs on a prompt. Secrets are read without echo and never printed.
 */
import { createInterface } from 'node:readline';
import type { SshPrompts } from '../ssh/index.js';

/** Prompts on the controlling terminal; without a TTY every question is answered "no" (like BatchMode). */
export function ttyPrompts(): SshPrompts {
  const tty = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const ask = (q: string, secret: boolean): Promise<string | undefined> => {
    if (!tty) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      if (secret) {
        // Echo nothing while a secret is typed.
        (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
        process.stderr.write(q);
      }
      rl.question(secret ? '' : q, (answer) => {
        rl.close();
        if (secret) process.stderr.write('\n');
        resolve(answer);
      });
      rl.on('SIGINT', () => {
        rl.close();
        resolve(undefined);
      });
    });
  };
  return {
    hostKey: async (q) => {
      const other = q.otherKnownTypes.length
        ? `\nKeys of other types are known for this host: ${q.otherKnownTypes.join(', ')}.`
        : '';
      const a = await ask(
        `The authenticity of host ${q.hop} can't be established.\n${q.keyType} key fingerprint is ${q.fingerprint}.${other}\n` +
          `Are you sure you want to continue connecting (yes/no/[fingerprint])? `,
        false,
      );
      if (a === undefined) return 'reject';
      return a.trim() === 'yes' || a.trim() === q.fingerprint ? 'accept-and-remember' : 'reject';
    },
    passphrase: (q) => ask(`Enter passphrase for key '${q.identityFile}': `, true),
    password: (q) => ask(`${q.user}@${q.host}'s password: `, true),
    keyboardInteractive: async (q) => {
      const answers: string[] = [];
      if (q.instructions) process.stderr.write(`${q.instructions}\n`);
      for (const p of q.prompts) {
        const a = await ask(p.prompt, !p.echo);
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    },
  };
}
