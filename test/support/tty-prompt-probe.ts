// Run by test/cli/ttyPrompts.itest.ts, in a pty or with pipes: asks the CLI's SSH questions once each and prints
// what came back (the passphrase only as its length, so the output never holds it).
import { ttyPrompts } from '../../src/cli/ttyPrompts.js';

const prompts = ttyPrompts();
const hostKey = await prompts.hostKey({
  hop: 'bastion (127.0.0.1:2222)',
  host: '127.0.0.1',
  port: 2222,
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:probeprobeprobeprobeprobeprobeprobeprobe000',
  otherKnownTypes: [],
});
const passphrase = await prompts.passphrase({ hop: 'bastion', identityFile: '/tmp/key', attempt: 1 });
process.stdout.write(`RESULT ${JSON.stringify({ hostKey, passphraseLength: passphrase?.length ?? null })}\n`);
