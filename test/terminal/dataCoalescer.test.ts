import { describe, expect, it } from 'vitest';
import { DataCoalescer, type CoalescerTimers } from '../../src/terminal/dataCoalescer.js';

/** Manual timers: the test decides when a window closes. */
function manualTimers(): CoalescerTimers & { fire(): void; pending(): number } {
  let queue: Array<() => void> = [];
  return {
    setTimeout: (fn) => {
      queue.push(fn);
      return fn;
    },
    clearTimeout: (h) => {
      queue = queue.filter((f) => f !== h);
    },
    fire() {
      const q = queue;
      queue = [];
      for (const f of q) f();
    },
    pending: () => queue.length,
  };
}

describe('DataCoalescer', () => {
  it('sends a lone chunk at once (keystroke echo is not delayed)', () => {
    const out: string[] = [];
    const c = new DataCoalescer((d) => out.push(d), 5, 1000, manualTimers());
    c.push('a');
    expect(out).toEqual(['a']);
  });

  it('keeps sending small chunks at once within a window (typing stays immediate)', () => {
    const out: string[] = [];
    const c = new DataCoalescer((d) => out.push(d), 5, 1000, manualTimers(), 4);
    c.push('a');
    c.push('b');
    c.push('cd');
    expect(out).toEqual(['a', 'b', 'cd']);
  });

  it('joins a burst once it exceeds the small-burst size, and sends it when the window closes', () => {
    const out: string[] = [];
    const timers = manualTimers();
    const c = new DataCoalescer((d) => out.push(d), 5, 1000, timers, 4);
    c.push('abc');
    c.push('def');
    c.push('g');
    expect(out).toEqual(['abc']);
    timers.fire();
    expect(out).toEqual(['abc', 'defg']);
    // Still in a burst: the next window starts counting with what was just sent.
    c.push('hi');
    expect(out).toEqual(['abc', 'defg']);
    timers.fire();
    expect(out).toEqual(['abc', 'defg', 'hi']);
    // A quiet window ends the burst.
    timers.fire();
    expect(timers.pending()).toBe(0);
    c.push('j');
    expect(out).toEqual(['abc', 'defg', 'hi', 'j']);
  });

  it('sends early when too much piles up, and keeps order on flush and dispose', () => {
    const out: string[] = [];
    const c = new DataCoalescer((d) => out.push(d), 5, 4, manualTimers(), 0);
    c.push('1');
    c.push('23');
    c.push('45');
    expect(out).toEqual(['1', '2345']);
    c.push('6');
    c.flush();
    c.push('7');
    c.dispose();
    c.push('8');
    expect(out.join('')).toBe('1234567');
  });
});
