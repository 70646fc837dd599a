// src/terminal: terminal sessions (local pty today; ssh and replay later), shell-integration blocks,
// flow control and asciicast recording. See docs/terminal.md.
export type * from './types.js';
export {
  TerminalManager,
  resolveExecutable,
  type AttachOptions,
  type CreateLocalOptions,
  type TerminalManagerDeps,
} from './terminalManager.js';
export { LocalPtyBackend } from './localPtyBackend.js';
export { ReplayBackend, type ReplayOptions } from './replayBackend.js';
export { SshChannelBackend, type SshShellChannel } from './sshChannelBackend.js';
export { SshShellBackend, droppedMessage, type CreateSshOptions } from './sshTerminal.js';
export { newNonce, remoteBashCommand, shellFlavour } from './shellIntegration.js';
export { TerminalSessionImpl, type TerminalBackend, type TerminalSessionOptions } from './terminalSession.js';
export {
  FlowControl,
  FLOW_CONTROL_ACK_BATCH,
  FLOW_CONTROL_HIGH_WATERMARK,
  FLOW_CONTROL_LOW_WATERMARK,
  type PausableProducer,
} from './flowControl.js';
export { ShellIntegrationParser, type ShellMark, type StreamEvent } from './shellIntegrationParser.js';
export { BlockTracker, plainText } from './blockTracker.js';
export {
  formatAsciicastEvent,
  formatAsciicastHeader,
  parseAsciicast,
  AsciicastRecorder,
} from './asciicast.js';
export { sanitizePaste, isOpenableLink, OSC52_ALLOWED } from './safety.js';
