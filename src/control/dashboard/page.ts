// The dashboard's HTML: a shell the browser script (assets/dashboard.js) fills from the JSON
// routes every second. Names are escaped: a database name is user input.
import type {DashboardTarget} from './sessions';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]!);

/** The page of a database or an organization. */
export function dashboardPage(target: DashboardTarget): string {
  const title = target.kind === 'database' ? `${target.name} · redfly` : `${target.slug} · redfly`;
  const data = target.kind === 'database' ? `/dashboard/data/databases/${encodeURIComponent(target.name)}` : `/dashboard/data/orgs/${encodeURIComponent(target.slug)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/dashboard/assets/uPlot.min.css">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
</head>
<body data-kind="${target.kind}" data-source="${esc(data)}">
<header><span class="brand">redfly</span><h1 id="title">${esc(target.kind === 'database' ? target.name : target.slug)}</h1><span id="status" class="badge"></span><span id="updated" class="muted"></span></header>
<main id="main"><p class="muted">Loading…</p></main>
<script src="/dashboard/assets/uPlot.iife.min.js"></script>
<script src="/dashboard/assets/dashboard.js"></script>
</body>
</html>
`;
}

/** A page for a link that cannot be used (expired, used, revoked token). */
export function loginFailedPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>redfly dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
<body><main><h1>Cannot open the dashboard</h1><p>${esc(message)}</p>
<p>Run <code>redfly redis dashboard &lt;name&gt;</code> again for a new link.</p></main></body></html>
`;
}
