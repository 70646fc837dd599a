import type { SshPrompts } from '../ssh/index.js';
import { ApiFailure, type Disposable } from './server.js';

type HostKeyQuestion = Parameters<SshPrompts['hostKey']>[0];
type KeyboardQuestion = Parameters<SshPrompts['keyboardInteractive']>[0];

/** What the renderer is asked while an SSH connection is made (docs: src/ssh/auth.ts `SshPrompts`). */
export type SshPromptRequest = { readonly request: string } & (
  | ({ readonly kind: 'hostKey' } & HostKeyQuestion)
  | {
      readonly kind: 'passphrase';
      readonly hop: string;
      readonly identityFile: string;
      readonly attempt: number;
    }
  | {
      readonly kind: 'password';
      readonly hop: string;
      readonly user: string;
      readonly host: string;
      readonly attempt: number;
    }
  | ({ readonly kind: 'keyboardInteractive' } & KeyboardQuestion)
);

/** The user's answer; `null` cancels (the key is rejected, no secret is given). */
export type SshPromptAnswer =
  | { readonly hostKey: 'accept-once' | 'accept-and-remember' | 'reject' }
  | { readonly secret: string }
  | { readonly responses: string[] }
  | null;

/** A question left unanswered this long is treated as "no": the connection attempt fails instead of hanging. */
const promptTimeoutMs = 5 * 60_000;

/**
 * SSH's questions (unknown host key, passphrase, password, keyboard-interactive) asked through the UI: each is an
 * event to the renderer, answered by `ssh.answer`. Secrets pass through here in memory only and are never logged.
 */
export class UiSshPrompts implements SshPrompts, Disposable {
  private next = 1;
  private readonly pending = new Map<
    string,
    { settle: (a: SshPromptAnswer) => void; timer: ReturnType<typeof setTimeout> }
  >();

  constructor(private readonly ask: (request: SshPromptRequest) => void) {}

  private question(q: Omit<SshPromptRequest, 'request'>): Promise<SshPromptAnswer> {
    const request = `s${this.next++}`;
    return new Promise<SshPromptAnswer>((resolve) => {
      const timer = setTimeout(() => this.settle(request, null), promptTimeoutMs);
      this.pending.set(request, { settle: resolve, timer });
      this.ask({ ...q, request } as SshPromptRequest);
    });
  }

  private settle(request: string, answer: SshPromptAnswer): boolean {
    const p = this.pending.get(request);
    if (!p) return false;
    this.pending.delete(request);
    clearTimeout(p.timer);
    p.settle(answer);
    return true;
  }

  answer(request: string, answer: SshPromptAnswer): void {
    if (!this.settle(request, answer)) {
      throw new ApiFailure(
        'prompt-not-found',
        `no open SSH question "${request}" (it may have timed out)`,
        request,
      );
    }
  }

  async hostKey(q: HostKeyQuestion): Promise<'accept-once' | 'accept-and-remember' | 'reject'> {
    const a = await this.question({ kind: 'hostKey', ...q });
    return a && 'hostKey' in a ? a.hostKey : 'reject';
  }

  async passphrase(q: { hop: string; identityFile: string; attempt: number }): Promise<string | undefined> {
    const a = await this.question({ kind: 'passphrase', ...q });
    return a && 'secret' in a ? a.secret : undefined;
  }

  async password(q: {
    hop: string;
    user: string;
    host: string;
    attempt: number;
  }): Promise<string | undefined> {
    const a = await this.question({ kind: 'password', ...q });
    return a && 'secret' in a ? a.secret : undefined;
  }

  async keyboardInteractive(q: KeyboardQuestion): Promise<string[] | undefined> {
    const a = await this.question({ kind: 'keyboardInteractive', ...q });
    return a && 'responses' in a ? [...a.responses] : undefined;
  }

  dispose(): void {
    for (const request of [...this.pending.keys()]) this.settle(request, null);
  }
}
