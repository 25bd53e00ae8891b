package ui

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/model"
)

type configPage struct {
	NoConfig                  bool
	Generation, Updated       string
	Accepted, Rejected, Stale int
	SourceErrs, Refused       []problemRow
	Global                    *globalView
	Policies                  []policyRow
	Routes                    []routeCfgRow
}

type globalView struct {
	Source, Listeners, Sink, Sampling, Redaction string
}

type policyRow struct {
	Source, Kind, Object, Verdict string
	Problems                      []problemRow
}

// problemRow is one diagnostic: where (file or object), the field, and what is wrong.
type problemRow struct {
	Where, Field, Message string
}

type routeCfgRow struct {
	Name, Href, Hosts, Match, Cluster, Window, Objectives, Source string
	Stale                                                         bool
}

func (u *UI) serveConfig(w http.ResponseWriter, _ *http.Request) {
	u.render(w, "config", "Configuration", u.configPage())
}

func (u *UI) configPage() configPage {
	if u.cfg.Policies == nil {
		return configPage{NoConfig: true}
	}
	st := u.cfg.Policies.State()
	p := configPage{Generation: strconv.FormatUint(st.Generation, 10), Updated: fmtTime(st.Updated),
		SourceErrs: problems(st.SourceErr), Refused: problems(st.RefusedErr)}
	verdicts := slices.Clone(st.Verdicts)
	slices.SortFunc(verdicts, func(a, b config.Verdict) int { return compareSources(a.Source, b.Source) })
	stale := map[string]bool{}
	for _, v := range verdicts {
		row := policyRow{Source: where(v.Source), Kind: v.Source.Kind, Object: object(v.Source),
			Verdict: "accepted", Problems: problems(v.Problems)}
		switch {
		case v.Accepted:
			p.Accepted++
		case v.Stale:
			p.Stale++
			row.Verdict = "stale"
			stale[object(v.Source)] = true
		default:
			p.Rejected++
			row.Verdict = "rejected"
		}
		p.Policies = append(p.Policies, row)
	}
	if e := st.Edge; e != nil {
		p.Global = globalOf(e)
		for i := range e.Routes {
			p.Routes = append(p.Routes, routeCfgOf(&e.Routes[i], stale))
		}
	}
	return p
}

func compareSources(a, b model.Source) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Doc, b.Doc), cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// where is the file of a policy (with its document) or, from Kubernetes, its object.
func where(s model.Source) string {
	if s.File == "" {
		return s.String()
	}
	if s.Doc > 0 {
		return s.File + "#" + strconv.Itoa(s.Doc)
	}
	return s.File
}

func object(s model.Source) string {
	if s.Namespace != "" {
		return s.Namespace + "/" + s.Name
	}
	return s.Name
}

func globalOf(e *model.Edge) *globalView {
	g := &globalView{Source: e.Source.String(), Sampling: strconv.FormatFloat(e.DefaultSamplingPercent, 'g', -1, 64) + "%"}
	if g.Source == "" || e.Source == (model.Source{}) {
		g.Source = "built-in defaults"
	}
	var ls []string
	for _, l := range e.Listeners {
		s := l.Name + " :" + strconv.FormatUint(uint64(l.Port), 10)
		if l.TLS != nil {
			s += " (TLS)"
		}
		ls = append(ls, s)
	}
	g.Listeners = strings.Join(ls, ", ")
	g.Sink = e.Sink.Service
	if g.Sink == "" {
		g.Sink = e.Sink.Host + ":" + strconv.FormatUint(uint64(e.Sink.Port), 10)
	}
	g.Redaction = "headers " + strings.Join(e.Redaction.Headers, ", ")
	if e.Redaction.QueryStrings {
		g.Redaction += "; query strings"
	}
	return g
}

func routeCfgOf(r *model.Route, stale map[string]bool) routeCfgRow {
	in := infoOf(r)
	row := routeCfgRow{Name: r.Name, Href: routeHref(r.Name), Hosts: in.Hosts, Match: in.Match,
		Cluster: r.Backend.Cluster, Source: where(r.Source), Stale: stale[r.Name], Window: "–", Objectives: "none"}
	if r.SLO != nil && len(r.SLO.Objectives) > 0 {
		row.Window = fmtWindow(sloWindowOr(r.SLO.Window))
		var os []string
		for _, o := range r.SLO.Objectives {
			s := o.Name + " " + fmtTarget(o.Target)
			if o.Indicator == model.Latency {
				s += " ≤ " + fmtDur(o.Threshold)
			}
			os = append(os, s)
		}
		row.Objectives = strings.Join(os, "; ")
	}
	return row
}

// problems lists the diagnostics in err: each config.Problem with its source and field, and
// any other error by its message. errors.Join's lists are flattened; other wrappers are
// shown whole, since their message already says what they wrap.
func problems(err error) []problemRow {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok && isJoin(err, j.Unwrap()) {
		var out []problemRow
		for _, e := range j.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	var p *config.Problem
	if errors.As(err, &p) && p.Error() == err.Error() {
		return []problemRow{{Where: where(p.Source), Field: p.Field, Message: p.Message}}
	}
	return []problemRow{{Message: err.Error()}}
}

// isJoin tells errors.Join's list from a wrapper of several errors with its own message
// (fmt.Errorf with two %w), by the message: a join's is its errors' on lines of their own.
func isJoin(err error, errs []error) bool {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	return err.Error() == strings.Join(msgs, "\n")
}
