/**
 * How the tests start Debian's Chromium as root in a sandbox without network: no setuid sandbox (root), no GPU,
 * and none of the background connections that this machine's closed network would refuse.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
