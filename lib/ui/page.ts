import { html, type Html } from './html.js';

export interface NavLink {
  href: string;
  label: string;
  current?: boolean;
}

export interface PageOptions {
  /** The document title and the page's h1. */
  title: string;
  /** Shown at the top left, e.g. "Webhooks" or the app's name for a portal. */
  brand: string;
  /** Where `assets/ui.css` (and `assets/ui.js` when `script`) are served, e.g. "/webhooks/admin". */
  assetsPath: string;
  nav?: NavLink[];
  body: Html;
  /** Loads `assets/ui.js` (deferred): pages work without it, it only adds live updates. */
  script?: boolean;
  /** A notice above the content (after an action). */
  notice?: { kind: 'ok' | 'bad' | 'warn'; text: string };
}

/** A whole page: one shell for the dashboard and the portal, keyboard-usable (skip link, focus rings). */
export function renderPage(options: PageOptions): string {
  const base = `/${options.assetsPath.replace(/^\/+|\/+$/g, '')}`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · ${options.brand}</title>
<link rel="stylesheet" href="${base}/assets/ui.css">
${options.script ? html`<script src="${base}/assets/ui.js" defer></script>` : null}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="top">
  <span class="brand">${options.brand}</span>
  <nav aria-label="Sections">${(options.nav ?? []).map(
    (link) => html`<a href="${link.href}"${link.current ? html` aria-current="page"` : null}>${link.label}</a>`,
  )}</nav>
</header>
<main id="content">
<h1>${options.title}</h1>
${options.notice ? html`<div class="notice ${options.notice.kind}" role="status">${options.notice.text}</div>` : null}
${options.body}
</main>
</body>
</html>`.toString();
}
