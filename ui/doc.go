// Package ui is edgetel's built-in status page, served on the HTTP port next to /metrics:
//
//   - / (overview): every route's objectives, budget left, burn rate per window, a chart of
//     the 1h burn rate over recent hours, and its state (ok, ticket, page) judged by the very
//     windows and factors of the generated alerts (see Assess).
//   - /routes/{namespace}/{name}: request rate, errors and latency over time, the objectives'
//     numbers, recent bad requests linked to Jaeger and Grafana, and the Envoy stats of the
//     route's cluster.
//   - /config: the policies in force and where each came from, the rejected ones with file or
//     object, field and message, stale ones, source errors and refusals.
//   - /pipeline: what the pipeline received, joined, dropped and rejected, read from the same
//     Gatherer as /metrics, so that the page and a scrape never disagree.
//
// Pages are rendered on the server with html/template (escaping every value); charts are
// inline SVG drawn here; the stylesheet and a few lines of JavaScript that refresh the page in
// place are embedded. Nothing is fetched from elsewhere (a Content-Security-Policy says so),
// and every page works with JavaScript off.
//
// The charts over time come from a ring that samples the StatusSource every SampleEvery (10s):
// the accountant keeps windows, not history. See history for its memory bound.
package ui
