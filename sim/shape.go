package sim

import (
	"math"
	"strconv"
	"strings"

	"github.com/edgetel/edgetel/model"
)

// What clients look like. Documentation address ranges (RFC 5737) stand in for the internet.
var (
	clientNets = []string{"203.0.113.", "198.51.100.", "192.0.2."}
	// cdnIPs front some clients; the client's own address is then in x-forwarded-for.
	cdnIPs     = []string{"198.51.100.200", "198.51.100.201"}
	userAgents = []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"shop-android/5.12.1 (Pixel 8; Android 14)",
		"okhttp/4.12.0",
		"curl/8.8.0",
		"python-requests/2.32.3",
	}
	segments   = []string{"items", "orders", "sessions", "list", "details", "v2/summary"}
	words      = []string{"shoes", "red+dress", "laptop", "coffee", "gift+card", "headphones"}
	strayPaths = []string{"/favicon.ico", "/wp-login.php", "/.env", "/admin/config.php", "/api/v0/status"}
)

// client picks who sends the request and from where.
func (g *Generator) client(r *Request) {
	r.ClientIP = clientNets[g.rng.IntN(len(clientNets))] + strconv.Itoa(1+g.rng.IntN(254))
	r.PeerIP = r.ClientIP
	r.ClientPort = uint32(32768 + g.rng.IntN(28232))
	r.UserAgent = userAgents[g.rng.IntN(len(userAgents))]
	if g.rng.Float64() < 0.3 {
		r.ForwardedFor = r.ClientIP
		r.PeerIP = cdnIPs[g.rng.IntN(len(cdnIPs))]
	}
}

// request picks the method, authority and path: whatever the route matches.
func (g *Generator) request(r *Request, rg *routeGen) {
	r.Method = g.method(rg.methods)
	r.Authority = rg.hosts[g.rng.IntN(len(rg.hosts))]
	r.Path = g.path(rg.route.Match)
}

func (g *Generator) method(allowed []string) string {
	u := g.rng.Float64()
	if len(allowed) > 0 {
		// The first method a route lists is its main one (GET before HEAD).
		if u < 0.8 || len(allowed) == 1 {
			return allowed[0]
		}
		return allowed[1+g.rng.IntN(len(allowed)-1)]
	}
	switch {
	case u < 0.8:
		return "GET"
	case u < 0.95:
		return "POST"
	}
	return "DELETE"
}

// path makes a path the match selects, sometimes with a query string (which the sink must
// redact before export). A regex match gets "/": the sink keys on route_name, not the path.
func (g *Generator) path(m model.Match) string {
	var b strings.Builder
	switch {
	case m.Path != "":
		b.WriteString(m.Path)
	case m.Prefix != "":
		b.WriteString(m.Prefix)
		if !strings.HasSuffix(m.Prefix, "/") {
			b.WriteByte('/')
		}
		b.WriteString(segments[g.rng.IntN(len(segments))])
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(1000 + g.rng.IntN(9000)))
	default:
		b.WriteByte('/')
	}
	if g.rng.Float64() < 0.3 {
		b.WriteString("?q=")
		b.WriteString(words[g.rng.IntN(len(words))])
		b.WriteString("&page=")
		b.WriteString(strconv.Itoa(1 + g.rng.IntN(9)))
	}
	return b.String()
}

// sizes picks header and body sizes: bodies for methods that carry one, Envoy's own local
// reply bodies for the failures it answers itself.
func (g *Generator) sizes(r *Request) {
	r.RequestHeaderBytes = uint64(250 + g.rng.IntN(700))
	switch r.Method {
	case "POST", "PUT", "PATCH":
		r.RequestBodyBytes = uint64(100 + g.rng.IntN(4000))
	}
	r.ResponseHeaderBytes = uint64(120 + g.rng.IntN(280))
	body := 2000 * math.Exp(g.rng.NormFloat64())
	switch {
	case causeReplies[r.Cause].details != "" && r.Cause != CauseRetriesExhausted:
		r.ResponseBodyBytes = causeReplies[r.Cause].body
	case r.Method == "HEAD" || r.Status == 204:
		r.ResponseBodyBytes = 0
	case r.Status >= 400:
		r.ResponseBodyBytes = uint64(40 + int(body)%200)
	default:
		r.ResponseBodyBytes = uint64(min(body, 5<<20))
	}
}

// loggedHeaders says which request headers, among those the generator makes, Envoy logs
// with each entry (additional_request_headers_to_log). traceparent always is.
type loggedHeaders struct {
	userAgent, forwardedFor, requestID bool
}

func loggedFrom(names []string) loggedHeaders {
	var l loggedHeaders
	for _, n := range names {
		switch strings.ToLower(n) {
		case "user-agent":
			l.userAgent = true
		case "x-forwarded-for":
			l.forwardedFor = true
		case "x-request-id":
			l.requestID = true
		}
	}
	return l
}
