import type { Disposable } from './types.js';

/** A tiny typed event source. A listener that throws does not stop the others. */
export class Emitter<T> implements Disposable {
  private listeners: Array<(value: T) => void> = [];

  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.push(listener);
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  };

  get size(): number {
    return this.listeners.length;
  }

  fire(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch (err) {
        // One broken listener must not starve the others nor kill the process.
        console.error('terminal: an event listener threw', err);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}
