package ui

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/service/accesslog/v3"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/internal/testenv"
)

// newBrowser starts headless Chromium for the test, in a fresh profile, with everything that
// would reach for the network switched off: on a closed network Chromium otherwise hangs on
// its background requests. It stops with ctx or the test.
func newBrowser(ctx context.Context, t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Tool(t, "chromium")),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // start the browser now, so failures say so
		t.Fatalf("starting chromium: %v", err)
	}
	return bctx
}

// fullScreenshot saves a PNG of the whole page at url to path.
func fullScreenshot(ctx context.Context, t *testing.T, url, path string) {
	t.Helper()
	navigate(ctx, t, url)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", url, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startALSReceiver serves an access-log receiver handing records to next on a loopback
// port. stop closes the streams and waits until next has every record received.
func startALSReceiver(t *testing.T, next als.Consumer) (addr string, stop func()) {
	t.Helper()
	rx, err := als.NewReceiver(als.ReceiverConfig{}, next, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	accesslogv3.RegisterAccessLogServiceServer(srv, rx)
	if err := rx.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Stop() // the fleet has closed its streams; nothing is in flight
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := rx.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// waitCounted waits until the accountant has counted n requests: the receiver hands
// batches on through a queue, after the fleet's SendN has returned.
func waitCounted(ctx context.Context, t *testing.T, s StatusSource, n uint64) {
	t.Helper()
	for {
		var got uint64
		for _, rs := range s.Status() {
			for _, c := range rs.Requests {
				got += c
			}
		}
		if got == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the sink counted %d requests, the fleet sent %d", got, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// fakeClock is the status page's clock in the browser test: it moves with the fleet's
// virtual time, so that the charts span the traffic the fleet made.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// evaluate runs a JavaScript expression on the page and decodes its value.
func evaluate[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// navigate loads a page and fails the test unless it answers 200.
func navigate(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	if res.Status != 200 {
		t.Fatalf("%s: status %d", url, res.Status)
	}
}

// setScripts switches the page's JavaScript on or off.
func setScripts(ctx context.Context, t *testing.T, on bool) {
	t.Helper()
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// requestsOf sums edgetel_requests_total of a route over its code classes.
func requestsOf(fams map[string]*dto.MetricFamily, route string) float64 {
	var sum float64
	for _, m := range fams["edgetel_requests_total"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "route" && lp.GetValue() == route {
				sum += value(m) // untyped: OpenMetrics names the family without _total
			}
		}
	}
	return sum
}

// pageNumber reads a number as the page writes it: 12,345 or 190×.
func pageNumber(t *testing.T, s string) float64 {
	t.Helper()
	s = strings.TrimSpace(strings.NewReplacer(",", "", "×", "", "%", "").Replace(s))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Errorf("%q is not a number", s)
	}
	return v
}
