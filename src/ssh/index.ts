/**
 * `src/ssh`: SSH connections for LabDeck (ARCHITECTURE.md). Imports nothing else of ours.
 *
 * - `resolveProfile(dest, env, overrides)` reads OpenSSH config into an `SshProfile` (plain data) with
 *   diagnostics for what is not supported.
 * - `new SshConnectionFactory({ prompts })` → `connect(profile)` gives an `SshConnection` lease on a shared,
 *   reference-counted chain: `exec`, `openShell` (the `SshShell` a terminal session wraps: write, resize,
 *   onData, onExit, pause/resume), `openLocalForward`, `listForwards`, `onClose`, `reconnect`, `dispose`.
 * - `check(profile)` for `labdeck ssh --check`; `replaceHostKey(err)` is the explicit action after a
 *   `HostKeyChangedError`.
 * - `KnownHostsStore` / `parseKnownHosts` / `judgeHostKey` for known_hosts.
 */
export * from './profile.js';
export * from './config.js';
export * from './knownHosts.js';
export * from './hostKey.js';
export * from './errors.js';
export * from './auth.js';
export * from './connection.js';
export * from './pattern.js';
