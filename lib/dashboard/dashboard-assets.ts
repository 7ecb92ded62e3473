import { UI_STYLESHEET } from '../ui/stylesheet.js';

/** The shared stylesheet, and what only the dashboard needs: chart bar heights as classes (no inline style). */
export const DASHBOARD_STYLESHEET = `${UI_STYLESHEET}
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.small { font-size: 12px; }
.wrap { word-break: break-all; }
h3 { font-size: 14px; margin: 0 0 8px; }
h4 { font-size: 13px; margin: 12px 0 6px; }
.actions { margin-bottom: 12px; }
.chart .bar { height: 100%; }
${Array.from({ length: 21 }, (_, i) => `.chart .h${i} { height: ${i * 5}%; }`).join('\n')}
.legend .key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-left: 8px; }
.legend .key.ok { background: var(--ok); } .legend .key.bad { background: var(--bad); }
.legend .key.warn { background: var(--warn); }
input.secret { font-size: 14px; width: 100%; }
table th[scope="row"] { text-transform: none; letter-spacing: 0; white-space: nowrap; }
`;

/**
 * Live updates: every 5 s while the tab is visible, the page is fetched again and its live region (\`[data-live]\`)
 * swapped for the new one; not while focus is inside it (a keyboard user keeps their place). Polling, not SSE: the
 * same on both transports, through any proxy, and no connection held open per tab.
 */
export const DASHBOARD_SCRIPT = `'use strict';
(function () {
  var INTERVAL = 5000;
  var timer;
  function region() { return document.querySelector('[data-live]'); }
  function schedule() {
    clearTimeout(timer);
    if (!document.hidden && region()) timer = setTimeout(refresh, INTERVAL);
  }
  function refresh() {
    var current = region();
    if (!current || document.hidden || current.contains(document.activeElement)) return schedule();
    fetch(location.href, { credentials: 'same-origin', headers: { 'x-dashboard-refresh': '1' } })
      .then(function (res) {
        var type = res.headers.get('content-type') || '';
        return res.ok && type.indexOf('text/html') === 0 ? res.text() : null;
      })
      .then(function (text) {
        if (text === null) return;
        var next = new DOMParser().parseFromString(text, 'text/html').querySelector('[data-live]');
        var now = region();
        if (next && now && !now.contains(document.activeElement)) now.replaceWith(document.importNode(next, true));
      })
      .catch(function () {})
      .then(schedule);
  }
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) clearTimeout(timer);
    else refresh();
  });
  schedule();
})();
`;
