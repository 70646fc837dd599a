// Child process for test/labs/progress.test.ts: records check results as fast as it can until it is killed.
// argv: <progress file> <start attempt>
import { ProgressStore } from '../../../src/labs/progress.js';

const [file, startText] = process.argv.slice(2) as [string, string];
const store = ProgressStore.open(file, 'pod-network-anatomy', 'crash-test');
let n = Number(startText);
process.stdout.write('ready\n');
for (;;) {
  n++;
  await store.setCheck(
    'dns',
    'dns-nameserver',
    n % 2 ? 'done' : 'failed',
    n,
    `attempt ${n} ${'x'.repeat(n % 500)}`,
  );
  await store.setStep(n % 3 ? 'dns' : 'who-am-i', n % 2 ? 'done' : 'failed');
}
