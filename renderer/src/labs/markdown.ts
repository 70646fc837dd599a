import MarkdownIt from 'markdown-it';

/**
 * Lab text is untrusted: raw HTML is off (markdown-it escapes it) and markdown-it's own link check refuses
 * `javascript:`, `vbscript:`, `file:` and `data:` (other than images) URLs. Links are opened only through the app's
 * confirmation dialog.
 */
const md = new MarkdownIt({ html: false, linkify: true, typographer: false });

export type Segment =
  | { readonly kind: 'html'; readonly html: string }
  /** A runnable block: the n-th fenced block with `{…}` attributes, in order (matches the lab model's blocks). */
  | { readonly kind: 'block'; readonly index: number }
  | { readonly kind: 'checks' };

/** Splits a step's Markdown into rendered text and the places of its runnable blocks and checks. */
export function segments(markdown: string): Segment[] {
  const tokens = md.parse(markdown, {});
  const out: Segment[] = [];
  let pending: typeof tokens = [];
  let runnable = 0;
  const flush = (): void => {
    if (pending.length) out.push({ kind: 'html', html: md.renderer.render(pending, md.options, {}) });
    pending = [];
  };
  for (const token of tokens) {
    if (token.type === 'fence') {
      const attrs = /\{([^}]*)\}\s*$/.exec(token.info)?.[1]?.trim();
      if (attrs === 'checks') {
        flush();
        out.push({ kind: 'checks' });
        continue;
      }
      if (attrs) {
        flush();
        out.push({ kind: 'block', index: runnable++ });
        continue;
      }
    }
    pending.push(token);
  }
  flush();
  return out;
}
