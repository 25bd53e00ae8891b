package xds

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/edgetel/edgetel/model"
)

// The scale of issue 3's performance target: 10,000 routes over 1,000 services. Targets:
// a full translation ≤100 ms, a one-route change ≤20 ms, ≤150 MiB heap.
const (
	benchServices        = 1000
	benchRoutesPerSvc    = 10
	benchHosts           = 100
	benchListeners       = 2
	benchKubernetesEvery = 2 // every 2nd service is a Kubernetes Service, the rest addresses
)

// benchEdge generates a model of the benchmark's size directly, with a realistic mix:
// prefixes, exact paths and regular expressions, methods and headers, retries and timeouts,
// Kubernetes and address backends, and a few routes for every host.
func benchEdge() *model.Edge { return benchEdgeSized(benchServices) }

func benchEdgeSized(services int) *model.Edge {
	e := &model.Edge{
		Listeners: []model.Listener{{Name: "http", Address: "0.0.0.0", Port: 10000},
			{Name: "https", Address: "0.0.0.0", Port: 10443, TLS: &model.TLS{SecretName: "edge/edge-cert"}}}[:benchListeners],
		Sink:                   model.Sink{Host: "127.0.0.1", Port: 4317},
		AccessLog:              model.AccessLog{RequestHeaders: []string{"traceparent", "user-agent"}, BufferSize: 16384, FlushInterval: time.Second},
		DefaultSamplingPercent: 1,
	}
	for s := range services {
		ns, svc := fmt.Sprintf("team%03d", s/10), fmt.Sprintf("svc%04d", s)
		backend := model.Backend{Cluster: fmt.Sprintf("k8s_%s_%s_8080", ns, svc), Service: svc, Port: 8080}
		if s%benchKubernetesEvery != 0 {
			host := fmt.Sprintf("10.%d.%d.%d", s/65536, s/256%256, s%256)
			backend = model.Backend{Cluster: fmt.Sprintf("ext_%s_8080", host), Host: host, Port: 8080}
		}
		for i := range benchRoutesPerSvc {
			e.Routes = append(e.Routes, benchRoute(s, i, ns, svc, backend))
		}
	}
	sortRoutes(e.Routes)
	return e
}

func benchRoute(s, i int, ns, svc string, b model.Backend) model.Route {
	r := model.Route{
		Name:            fmt.Sprintf("%s/%s-r%d", ns, svc, i),
		Namespace:       ns,
		Hosts:           []string{fmt.Sprintf("host%03d.example.com", s%benchHosts)},
		Backend:         b,
		Timeout:         time.Duration(1+i) * time.Second,
		SamplingPercent: 5,
	}
	switch i % 10 {
	case 0, 1:
		r.Match.Path = fmt.Sprintf("/%s/exact/%d", svc, i)
	case 2:
		r.Match.Regex = fmt.Sprintf("/%s/items/[0-9]+/v%d", svc, i)
	default:
		r.Match.Prefix = fmt.Sprintf("/%s/p%d/", svc, i)
	}
	if i%3 == 0 {
		r.Match.Methods = []string{"GET", "HEAD"}
	}
	if i%4 == 0 {
		r.Match.Headers = []model.HeaderMatch{{Name: "x-tenant", Prefix: "t-"}}
	}
	if i%2 == 0 {
		r.Retries = &model.Retries{Attempts: 2, On: []string{"5xx", "reset"}, PerTryTimeout: time.Second}
	}
	if s%100 == 0 && i == 9 {
		r.Hosts = nil // a few routes for every host
	}
	return r
}

func sortRoutes(rs []model.Route) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Name < rs[j-1].Name; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// withOneChange returns a copy of e with one route's timeout changed.
func withOneChange(e *model.Edge, n int) *model.Edge {
	c := *e
	c.Routes = append([]model.Route(nil), e.Routes...)
	c.Routes[len(c.Routes)/2].Timeout = time.Duration(n%50+1) * 100 * time.Millisecond
	return &c
}

// BenchmarkTranslateFull is a translation from nothing: Translate and Validate of every
// resource, as at start or with a fresh Translator.
func BenchmarkTranslateFull(b *testing.B) {
	e := benchEdge()
	b.ReportAllocs()
	var res *Resources
	cpu := cpuTime()
	for b.Loop() {
		var err error
		if res, err = Translate(e); err != nil {
			b.Fatal(err)
		}
		if err := res.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	reportHeap(b, e, res)
}

// BenchmarkTranslateOneRouteChange is the steady state: a Translator that translated the
// model before translates it again with one route changed, and validates the result.
func BenchmarkTranslateOneRouteChange(b *testing.B) {
	e := benchEdge()
	t := NewTranslator()
	res, err := t.Translate(e)
	if err != nil {
		b.Fatal(err)
	}
	if err := res.Validate(); err != nil {
		b.Fatal(err)
	}
	// Two models that differ in one route, built beforehand: the benchmark times the
	// translation, not the building of models.
	models := [2]*model.Edge{withOneChange(e, 1), withOneChange(e, 2)}
	b.ReportAllocs()
	n := 0
	cpu := cpuTime()
	for b.Loop() {
		n++
		res, err := t.Translate(models[n%2])
		if err != nil {
			b.Fatal(err)
		}
		if err := res.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	reportHeap(b, e, models, t)
}

// reportCPU reports the CPU time (user and system, all threads) per operation besides the
// wall time: on a shared machine the wall time measures the neighbours too.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportHeap reports the live heap while keep (models, translations, a Translator's cache)
// is held: the memory of an edgetel xds at this scale, less the server's snapshots.
func reportHeap(b *testing.B, keep ...any) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-live-heap")
	runtime.KeepAlive(keep)
}
