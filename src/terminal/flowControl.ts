// Flow control between a producer (a pty, or an ssh channel) and a consumer that acknowledges what it has
// parsed (the renderer's xterm, after its write callback). VS Code's terminal (src/vs/platform/terminal/common/
// terminal.ts, FlowControlConstants) pauses above 100,000 unacknowledged characters and resumes below 5,000; here the
// producer resumes once half of the high mark is acknowledged (200,000 / 100,000): resuming near empty let the
// consumer drain dry at every pause. bench/terminal-throughput, 8 MB through `cat`, two runs each on this machine:
// our session reached 0.43–0.45 of raw headless with 200,000 / 100,000 against 0.38–0.39 with 100,000 / 5,000, the
// bare pty 0.46–0.50. Ctrl-C still answers promptly: at most 200,000 characters wait to be parsed. The consumer
// acknowledges in batches of 5,000, as VS Code's does.

export const FLOW_CONTROL_HIGH_WATERMARK = 200_000;
export const FLOW_CONTROL_LOW_WATERMARK = 100_000;
export const FLOW_CONTROL_ACK_BATCH = 5_000;

/** Anything that can stop and restart reading: node-pty's IPty, an ssh2 ClientChannel. */
export interface PausableProducer {
  pause(): void;
  resume(): void;
}

export interface FlowControlOptions {
  readonly high?: number;
  readonly low?: number;
}

/**
 * The state machine: `produced(n)` when n characters are handed to the consumer, `acknowledge(n)` when the
 * consumer has parsed them. Pauses the producer once above `high`, resumes once at or below `low`.
 * `enabled = false` resumes and stops counting (no consumer acknowledges).
 */
export class FlowControl {
  readonly high: number;
  readonly low: number;
  private unackedChars = 0;
  private pausedState = false;
  private enabledState = true;

  constructor(
    private readonly producer: PausableProducer,
    opts: FlowControlOptions = {},
    private readonly onChange: (paused: boolean) => void = () => {},
  ) {
    this.high = opts.high ?? FLOW_CONTROL_HIGH_WATERMARK;
    this.low = opts.low ?? FLOW_CONTROL_LOW_WATERMARK;
    if (!(this.low >= 0 && this.high > this.low)) {
      throw new RangeError(`flow control needs 0 <= low < high, got low=${this.low} high=${this.high}`);
    }
  }

  get unacknowledged(): number {
    return this.unackedChars;
  }

  get paused(): boolean {
    return this.pausedState;
  }

  get enabled(): boolean {
    return this.enabledState;
  }

  produced(chars: number): void {
    if (!this.enabledState || chars <= 0) return;
    this.unackedChars += chars;
    if (!this.pausedState && this.unackedChars > this.high) this.setPaused(true);
  }

  acknowledge(chars: number): void {
    if (!this.enabledState || !(chars > 0)) return;
    // A consumer that acknowledges more than it got (e.g. after a reset) cannot drive the count negative.
    this.unackedChars = Math.max(0, this.unackedChars - chars);
    if (this.pausedState && this.unackedChars <= this.low) this.setPaused(false);
  }

  setEnabled(enabled: boolean): void {
    if (enabled === this.enabledState) return;
    this.enabledState = enabled;
    this.unackedChars = 0;
    if (!enabled && this.pausedState) this.setPaused(false);
  }

  private setPaused(paused: boolean): void {
    this.pausedState = paused;
    if (paused) this.producer.pause();
    else this.producer.resume();
    this.onChange(paused);
  }
}
