import { useEffect, useRef } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import { SerializeAddon } from '@xterm/addon-serialize';
import '@xterm/xterm/css/xterm.css';
import type { ApiClient } from '../api/client';
import { isOpenableLink, sanitizePaste } from '../../../src/api/safety';

/** Renderer-side half of flow control: acknowledge parsed characters in batches (VS Code: 5,000). */
const ackBatchChars = 5_000;
const resizeDebounceMs = 60;

export interface TerminalViewProps {
  readonly api: ApiClient;
  readonly id: string;
  readonly visible: boolean;
  readonly exited: boolean;
  readonly onLink: (url: string) => void;
  readonly onFocus: () => void;
  /** The session was already running (the page was reloaded): show its recent output first. */
  readonly restore?: boolean;
}

let webglVerdict: boolean | undefined;

/**
 * Whether WebGL runs on a GPU. A software rasteriser (SwiftShader, llvmpipe: headless browsers, VMs, blocked
 * GPUs) makes xterm's WebGL renderer far slower than its DOM renderer — measured here, 10 MB of output took 48 s
 * with WebGL on SwiftShader and 2.8 s with the DOM renderer — so it is used only on real hardware.
 */
function hasHardwareWebgl(): boolean {
  if (webglVerdict !== undefined) return webglVerdict;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    webglVerdict = Boolean(gl) && !/swiftshader|llvmpipe|softpipe|software/i.test(renderer);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    webglVerdict = false;
  }
  return webglVerdict;
}

/** One xterm.js view onto a backend terminal session. */
export function TerminalView({ api, id, visible, exited, onLink, onFocus, restore }: TerminalViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const exitedRef = useRef(exited);
  exitedRef.current = exited;
  const callbacks = useRef({ onLink, onFocus });
  callbacks.current = { onLink, onFocus };

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const term = new Terminal({
      allowProposedApi: true,
      scrollback: 10_000,
      fontFamily: 'DejaVu Sans Mono, Menlo, Consolas, monospace',
      fontSize: 13,
      cursorBlink: true,
      theme: { background: '#1e1e1e' },
    });
    const fit = new FitAddon();
    fitRef.current = fit;
    term.loadAddon(fit);
    term.loadAddon(new SearchAddon());
    term.loadAddon(new SerializeAddon());
    term.loadAddon(new WebLinksAddon((_event, uri) => isOpenableLink(uri) && callbacks.current.onLink(uri)));
    const unicode = new Unicode11Addon();
    term.loadAddon(unicode);
    term.unicode.activeVersion = '11';
    term.open(element);
    if (hasHardwareWebgl()) {
      try {
        const webgl = new WebglAddon();
        webgl.onContextLoss(() => webgl.dispose());
        term.loadAddon(webgl);
      } catch {
        // WebGL refused after all: xterm keeps its DOM renderer.
      }
    }
    // OSC 52 (clipboard access by programs in the terminal) is refused: swallow it rather than act on it.
    const osc52 = term.parser.registerOscHandler(52, () => true);

    let unacked = 0;
    // A restored view first shows what the session printed before this page existed; live data that arrives
    // meanwhile waits its turn. Whatever the previous page left unacknowledged is released at once.
    let held: string[] | null = restore ? [] : null;
    if (restore) {
      void api
        .call('terminal.output', { id })
        .then(({ data }) => term.write(data))
        .catch(() => {})
        .finally(() => {
          const queued = held ?? [];
          held = null;
          for (const data of queued) write(data);
          void api.call('terminal.ack', { id, chars: 100_000_000 }).catch(() => {});
        });
    }
    const unlistenData = api.listen('terminal.data', (payload) => {
      if (payload.id !== id) return;
      if (held) held.push(payload.data);
      else write(payload.data);
    });
    function write(data: string): void {
      term.write(data, () => {
        unacked += data.length;
        if (unacked >= ackBatchChars) {
          const chars = unacked;
          unacked = 0;
          void api.call('terminal.ack', { id, chars }).catch(() => {});
        }
      });
    }
    const input = term.onData((data) => {
      if (!exitedRef.current) void api.call('terminal.write', { id, data }).catch(() => {});
    });
    const binary = term.onBinary((data) => {
      if (!exitedRef.current) void api.call('terminal.write', { id, data }).catch(() => {});
    });
    const onPaste = (event: ClipboardEvent): void => {
      const text = event.clipboardData?.getData('text/plain');
      if (text === undefined) return;
      event.preventDefault();
      event.stopPropagation();
      term.paste(sanitizePaste(text));
    };
    element.addEventListener('paste', onPaste, true);
    const onFocusIn = (): void => callbacks.current.onFocus();
    element.addEventListener('focusin', onFocusIn);

    let lastSize = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const resize = (): void => {
      if (!element.offsetParent) return; // hidden tab: keep the size it had
      fit.fit();
      const size = `${term.cols}x${term.rows}`;
      if (size === lastSize || exitedRef.current) return;
      lastSize = size;
      void api.call('terminal.resize', { id, cols: term.cols, rows: term.rows }).catch(() => {});
    };
    const observer = new ResizeObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(resize, resizeDebounceMs);
    });
    observer.observe(element);
    resize();
    term.focus();
    // Read-only view of the buffer as text, for end-to-end tests that check nothing was lost or garbled.
    Object.defineProperty(element, 'labdeckBufferText', {
      configurable: true,
      value: (): string[] => {
        const buffer = term.buffer.active;
        const lines: string[] = [];
        for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
        return lines;
      },
    });

    return () => {
      clearTimeout(timer);
      observer.disconnect();
      element.removeEventListener('paste', onPaste, true);
      element.removeEventListener('focusin', onFocusIn);
      unlistenData();
      input.dispose();
      binary.dispose();
      osc52.dispose();
      term.dispose();
    };
    // The view is bound to one session for its whole life; callbacks are read through refs.
  }, [api, id]);

  useEffect(() => {
    if (visible) requestAnimationFrame(() => fitRef.current?.fit());
  }, [visible]);

  return <div className="terminal-host" ref={host} data-terminal-id={id} />;
}
