/**
 * Safe-by-default rules for what crosses between the terminal and the rest of the desktop.
 * Pasted text may not carry escape sequences: a paste that contains `ESC [201~` would end bracketed-paste mode
 * early and let the rest run as typed commands, so the end marker is removed and every ESC (and the 8-bit CSI)
 * is stripped. See https://cirw.in/blog/bracketed-paste.
 */
export function sanitizePaste(text: string): string {
  // Control characters are exactly what this strips.
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[201~/g, '').replace(/[\x1b\x9b]/g, '');
}

/** Only web links open, and only after the user confirms: no file:, javascript:, custom schemes. */
export function isOpenableLink(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
