/* eslint-disable no-control-regex -- terminal escape sequences are made of control characters */
// Safe-by-default rules for what crosses between a terminal and the rest of the desktop. Pure and
// dependency-free: the renderer imports this file (lint allows it, as it allows contract.ts and protocol.ts).

/**
 * Text about to be pasted into a terminal: ESC (and the 8-bit CSI 0x9B) removed so that a pasted text cannot
 * carry escape sequences, and with them any bracketed-paste end marker (`ESC [ 201 ~`, also when written
 * `[201~` left behind after an ESC is stripped) so that it cannot end bracketed-paste mode early and have the
 * rest run as typed commands. Other text, including newlines and tabs, is kept.
 */
export function sanitizePaste(text: string): string {
  let prev: string;
  let s = text;
  // Repeat until stable: removing one marker must not splice together a new one.
  do {
    prev = s;
    s = s.replace(/\x1b\[201~|\x9b201~/g, '').replace(/[\x1b\x9b]/g, '');
    s = s.replace(/\[201~/g, '');
  } while (s !== prev);
  return s;
}

/** Only web links are ever opened from a terminal (after the user confirms); never file:, javascript:, etc. */
export function isOpenableLink(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
}
