import { createHash } from 'node:crypto';
import { SCRIPT } from './script.ts';
import { STYLE } from './style.ts';

/**
 * The second line of every report the HTML writer makes: a file that does not carry it is not one of
 * vgic-lab's, and `--html` does not overwrite it.
 */
export const HTML_MARK = '<!-- vgic-lab report: written by vgic-lab, safe to replace -->';

/** Text as HTML text or attribute value: whatever a scenario or design names stays text. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a `<script type="application/json">` element: no `<` can close the element, and the two
 * line separators JavaScript once took for line ends are escaped too.
 */
export function jsonInScript(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * One self-contained page: styles and script inline, and a content security policy that lets nothing
 * load from anywhere and runs no script but the page's own (by its hash), so that text that escaped
 * the escaping still could not run.
 */
export function page(title: string, body: string, data: unknown): string {
  const hash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:`;
  return `<!DOCTYPE html>
${HTML_MARK}
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script type="application/json" id="vgic-data">${jsonInScript(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
