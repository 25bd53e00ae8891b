package join

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/edgetel/edgetel/als"
	"github.com/edgetel/edgetel/tracing"
)

// benchInputs are n distinct sampled records and their spans, in batches of 32 as the
// receivers deliver them.
func benchInputs(n int) ([][]als.Record, []*tracing.Batch) {
	var recs [][]als.Record
	var spans []*tracing.Batch
	for i := 0; i < n; i += 32 {
		rb, sb := make([]als.Record, 32), &tracing.Batch{Spans: make([]tracing.Span, 32)}
		for k := range 32 {
			name := fmt.Sprint(i + k)
			rb[k], sb.Spans[k] = record(name, time.Millisecond), span(name)
		}
		recs, spans = append(recs, rb), append(spans, sb)
	}
	return recs, spans
}

func newBenchJoin(b *testing.B, cfg Config) *Join {
	j, err := New(cfg, checkoutEdge(), Discard, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Shutdown(context.Background()) })
	return j
}

// BenchmarkJoin measures the join per request (ns/op and allocs/op are per request):
//   - pair: a record, then its span a batch later, matched;
//   - unsampled: a record of an untraced request, emitted alone at once;
//   - evicting: a sampled record into a full table, which sends the oldest out;
//   - evicting at the default size: the same into a table of DefaultMaxPending, megabytes
//     whose look-ups miss the cache, as at the sink's full rate.
func BenchmarkJoin(b *testing.B) {
	recs, spans := benchInputs(1 << 14)
	b.Run("pair", func(b *testing.B) {
		j := newBenchJoin(b, Config{QueueItems: 1 << 16})
		b.ReportAllocs()
		for i := 0; i < b.N; i += 32 {
			k := (i / 32) % len(recs)
			j.ConsumeRecords(recs[k])
			j.ConsumeSpans(spans[k])
		}
	})
	b.Run("unsampled", func(b *testing.B) {
		j := newBenchJoin(b, Config{QueueItems: 1 << 16})
		batch := make([]als.Record, 32)
		for k := range batch {
			batch[k] = record(fmt.Sprint(k), time.Millisecond)
			batch[k].Sampled = false
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i += 32 {
			j.ConsumeRecords(batch)
		}
	})
	b.Run("evicting", func(b *testing.B) {
		j := newBenchJoin(b, Config{MaxPending: 1024, QueueItems: 1 << 16})
		b.ReportAllocs()
		for i := 0; i < b.N; i += 32 {
			j.ConsumeRecords(recs[(i/32)%len(recs)])
		}
	})
	b.Run("evicting at the default size", func(b *testing.B) {
		many, _ := benchInputs(4 * DefaultMaxPending)
		j := newBenchJoin(b, Config{QueueItems: 1 << 16})
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i += 32 {
			j.ConsumeRecords(many[(i/32)%len(many)])
		}
	})
}

// pendingEntryBytes fills a join of capacity n with n records that wait for their spans
// and returns the heap it holds per entry, table and index included, as runtime.MemStats
// counts it. The output ring is sized apart (Config.QueueItems) and kept to one item here.
func pendingEntryBytes(tb testing.TB, n int) float64 {
	recs, _ := benchInputs(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	j, err := New(Config{MaxPending: n, QueueItems: 1}, checkoutEdge(), Discard, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	for _, batch := range recs {
		j.ConsumeRecords(batch)
	}
	if p := j.Stats().Pending[SideLog]; p != n {
		tb.Fatalf("%d records pending, want %d", p, n)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	runtime.KeepAlive(recs)
	j.Shutdown(context.Background())
	return perEntry
}

func TestAPendingEntryTakesAtMost128Bytes(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 100,000-entry table")
	}
	got := pendingEntryBytes(t, DefaultMaxPending)
	t.Logf("%.1f bytes of heap per pending entry at the default MaxPending", got)
	if got > 128 {
		t.Errorf("%.1f bytes per pending entry, want at most 128", got)
	}
}

// BenchmarkPendingEntryMemory reports the heap per pending entry (B/entry) of a full
// table at the default MaxPending: the entry, its share of the index and of the join.
func BenchmarkPendingEntryMemory(b *testing.B) {
	var per float64
	for range b.N {
		per = pendingEntryBytes(b, DefaultMaxPending)
	}
	b.ReportMetric(per, "B/entry")
}
