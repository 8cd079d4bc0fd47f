// Served at / when web/dist has no built page: says how to build it, links to the API and shows a curl example.
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rtms-mock</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
code,pre{background:#f0f4f8;padding:.1rem .3rem;border-radius:4px}pre{padding:.8rem;overflow:auto}</style></head>
<body><h1>rtms-mock</h1>
<p>A local Zoom Realtime Media Streams server.</p>
<p><strong>The web page has not been built.</strong> Run <code>bun run build:web</code> (or <code>npm start</code>, which builds it
when needed) and reload. Meanwhile, drive the mock through the control API:</p>
<pre>curl -s -X POST localhost:9092/api/meetings -H 'content-type: application/json' \\
  -d '{"webhook_url":"http://localhost:8000/webhook"}'</pre>
<ul><li><a href="/api/meetings">/api/meetings</a> — meetings, streams, counters</li>
<li><a href="/api/openapi.json">/api/openapi.json</a> — the API description</li>
<li><a href="/health">/health</a></li></ul></body></html>`;
