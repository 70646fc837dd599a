// A test double of an ssh2 ClientChannel (not a real ssh connection): an EventEmitter that records the calls
// SshChannelBackend makes, and lets a test push bytes, an exit and a close.
import { EventEmitter } from 'node:events';
import type { SshShellChannel } from '../../src/terminal/sshChannelBackend.js';

export class FakeShellChannel extends EventEmitter implements SshShellChannel {
  readonly calls: string[] = [];
  readonly stderr = new EventEmitter();
  write(data: string): boolean {
    this.calls.push(`write ${JSON.stringify(data)}`);
    return true;
  }
  pause(): this {
    this.calls.push('pause');
    return this;
  }
  resume(): this {
    this.calls.push('resume');
    return this;
  }
  setWindow(rows: number, cols: number, height: number, width: number): void {
    this.calls.push(`setWindow ${rows} ${cols} ${height} ${width}`);
  }
  signal(name: string): void {
    this.calls.push(`signal ${name}`);
  }
  close(): void {
    this.calls.push('close');
  }
}
