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

  it('joins the chunks that follow within the window and sends them when it closes', () => {
    const out: string[] = [];
    const timers = manualTimers();
    const c = new DataCoalescer((d) => out.push(d), 5, 1000, timers);
    c.push('a');
    c.push('b');
    c.push('c');
    expect(out).toEqual(['a']);
    timers.fire();
    expect(out).toEqual(['a', 'bc']);
    // The window reopens after a flush with data; a quiet window ends the burst.
    timers.fire();
    expect(timers.pending()).toBe(0);
    c.push('d');
    expect(out).toEqual(['a', 'bc', 'd']);
  });

  it('sends early when too much piles up, and keeps order on flush and dispose', () => {
    const out: string[] = [];
    const c = new DataCoalescer((d) => out.push(d), 5, 4, manualTimers());
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
