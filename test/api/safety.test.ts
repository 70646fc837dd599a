import { describe, expect, it } from 'vitest';
import { isOpenableLink, sanitizePaste } from '../../src/api/safety.js';

describe('sanitizePaste', () => {
  it('keeps ordinary text, newlines and tabs', () => {
    expect(sanitizePaste('kubectl get pods\n\tls -la\r\n')).toBe('kubectl get pods\n\tls -la\r\n');
  });

  it('strips ESC so no escape sequence survives', () => {
    expect(sanitizePaste('a\x1b[31mred\x1b]0;t\x07b')).toBe('a[31mred]0;t\x07b');
  });

  it('removes bracketed-paste end markers, 7-bit and 8-bit, also ones spliced together', () => {
    expect(sanitizePaste('echo hi\x1b[201~rm -rf ~\n')).toBe('echo hirm -rf ~\n');
    expect(sanitizePaste('x\x9b201~y')).toBe('xy');
    expect(sanitizePaste('\x1b[20\x1b[201~1~')).toBe('');
    expect(sanitizePaste('[201~')).toBe('');
  });
});

describe('isOpenableLink', () => {
  it('allows http and https only', () => {
    expect(isOpenableLink('https://kubernetes.io/docs/')).toBe(true);
    expect(isOpenableLink('http://127.0.0.1:8080/x')).toBe(true);
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,x',
      'ftp://x',
      'vscode://x',
      'not a url',
      'http://',
      '',
    ]) {
      expect(isOpenableLink(bad), bad).toBe(false);
    }
  });
});
