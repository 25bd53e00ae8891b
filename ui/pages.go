package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the pages; each is templates/<name>.html on top of the shared templates.
var pageNames = []string{"overview", "route", "config", "pipeline"}

// pages are the parsed templates, one set per page.
type pages struct {
	sets map[string]*template.Template
}

func parsePages() (*pages, error) {
	base, err := template.New("").Funcs(template.FuncMap{
		"int": fmtInt,
		"add": func(a, b any) float64 { return toFloat(a) + toFloat(b) },
		"sub": func(a, b any) float64 { return toFloat(a) - toFloat(b) },
	}).ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		set, err := base.Clone()
		if err == nil {
			set, err = set.ParseFS(templateFS, "templates/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		p.sets[name] = set
	}
	return p, nil
}

// frame is what the layout needs around every page.
type frame struct {
	Title   string
	Nav     string
	Updated string
	Refresh int // seconds
	Page    any
}

// contentSecurityPolicy allows the page's own stylesheet and script and nothing else:
// the page makes no request anywhere but here, and injected markup could not run.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; " +
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// render executes a page into a buffer first, so that a template error is a clean 500 rather
// than half a page.
func (u *UI) render(w http.ResponseWriter, name, title string, page any) {
	f := frame{Title: title, Nav: name, Updated: fmtTime(u.cfg.Now()),
		Refresh: int(u.cfg.Refresh.Seconds()), Page: page}
	var buf bytes.Buffer
	if err := u.pages.sets[name].ExecuteTemplate(&buf, "layout", f); err != nil {
		u.cfg.Logger.Error("status page", "page", name, "err", err)
		http.Error(w, "the status page failed to render; see the log", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

// routes registers the pages.
func (u *UI) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", u.serveOverview)
	mux.HandleFunc("GET /routes/{route...}", u.serveRoute)
	mux.HandleFunc("GET /config", u.serveConfig)
	mux.HandleFunc("GET /pipeline", u.servePipeline)
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	return mux
}

// toFloat widens the numbers templates do arithmetic on (lengths, coordinates).
func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	panic(fmt.Sprintf("ui: template arithmetic on %T", v))
}
