import { describe, expect, it } from 'vitest';
import {
  FLOW_CONTROL_ACK_BATCH,
  FLOW_CONTROL_HIGH_WATERMARK,
  FLOW_CONTROL_LOW_WATERMARK,
  FlowControl,
} from '../../src/terminal/flowControl.js';

function producer(): { calls: string[]; pause(): void; resume(): void } {
  const calls: string[] = [];
  return { calls, pause: () => calls.push('pause'), resume: () => calls.push('resume') };
}

describe('FlowControl', () => {
  it('pauses above 200,000 and resumes at half that by default, acknowledged in batches of 5,000', () => {
    const f = new FlowControl(producer());
    expect([f.high, f.low]).toEqual([200_000, 100_000]);
    expect([FLOW_CONTROL_HIGH_WATERMARK, FLOW_CONTROL_LOW_WATERMARK, FLOW_CONTROL_ACK_BATCH]).toEqual([
      200_000, 100_000, 5_000,
    ]);
  });

  it('pauses once above the high watermark and resumes once at or below the low one', () => {
    const p = producer();
    const changes: boolean[] = [];
    const f = new FlowControl(p, { high: 100, low: 10 }, (paused) => changes.push(paused));
    f.produced(100);
    expect(f.paused).toBe(false);
    f.produced(1);
    expect(f.paused).toBe(true);
    f.produced(500); // data already in flight when paused still counts
    expect(f.unacknowledged).toBe(601);
    f.acknowledge(500);
    expect(f.paused).toBe(true);
    f.acknowledge(91);
    expect(f.unacknowledged).toBe(10);
    expect(f.paused).toBe(false);
    expect(p.calls).toEqual(['pause', 'resume']);
    expect(changes).toEqual([true, false]);
  });

  it('keeps unacknowledged output bounded for a consumer acking in batches of 5,000', () => {
    const p = producer();
    const f = new FlowControl(p);
    let maxUnacked = 0;
    let parsed = 0;
    for (let i = 0; i < 10_000; i++) {
      if (!f.paused) f.produced(4096); // the producer only delivers while running
      maxUnacked = Math.max(maxUnacked, f.unacknowledged);
      parsed += 1000;
      if (parsed >= FLOW_CONTROL_ACK_BATCH) {
        f.acknowledge(parsed);
        parsed = 0;
      }
    }
    expect(maxUnacked).toBeLessThanOrEqual(FLOW_CONTROL_HIGH_WATERMARK + 4096);
    expect(p.calls.filter((c) => c === 'pause').length).toBeGreaterThan(0);
  });

  it('never goes negative on over-acknowledgement', () => {
    const f = new FlowControl(producer(), { high: 10, low: 2 });
    f.produced(5);
    f.acknowledge(50);
    expect(f.unacknowledged).toBe(0);
    f.acknowledge(-3);
    f.acknowledge(Number.NaN);
    expect(f.unacknowledged).toBe(0);
  });

  it('when disabled, resumes a paused producer and stops counting', () => {
    const p = producer();
    const f = new FlowControl(p, { high: 10, low: 2 });
    f.produced(11);
    expect(f.paused).toBe(true);
    f.setEnabled(false);
    expect(f.paused).toBe(false);
    f.produced(1_000_000);
    expect(f.paused).toBe(false);
    expect(f.unacknowledged).toBe(0);
    f.setEnabled(true);
    f.produced(11);
    expect(p.calls).toEqual(['pause', 'resume', 'pause']);
  });

  it('rejects watermarks that cannot work', () => {
    expect(() => new FlowControl(producer(), { high: 5, low: 5 })).toThrow(/low < high/);
  });
});
