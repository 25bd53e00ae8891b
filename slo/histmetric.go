package slo

import (
	"encoding/hex"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// histMetric is a histogram with both classic and native buckets. client_golang's const
// histograms are one or the other (NewConstHistogram: classic; NewConstNativeHistogram since
// v1.21: native only), while a scrape can carry both in one dto.Histogram, as its own
// Histogram does with NativeHistogramBucketFactor set. Prometheus takes the native buckets
// where it scrapes them, the classic ones otherwise (or also, with
// always_scrape_classic_histograms).
type histMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      *dto.Histogram
}

func (m histMetric) Desc() *prometheus.Desc { return m.desc }

func (m histMetric) Write(out *dto.Metric) error {
	out.Histogram, out.Label = m.h, m.labels
	return nil
}

// metric returns s as a const metric, with its exemplars.
func (s *histSnap) metric(desc *prometheus.Desc, created time.Time, labelValues ...string) prometheus.Metric {
	count := s.count()
	sum := float64(s.sumUS) / 1e6
	h := &dto.Histogram{
		SampleCount:      &count,
		SampleSum:        &sum,
		CreatedTimestamp: timestamppb.New(created),
		Bucket:           make([]*dto.Bucket, len(s.bounds)),
	}
	var cum uint64
	for i, b := range s.bounds {
		cum += s.counts[i]
		h.Bucket[i] = &dto.Bucket{CumulativeCount: ptr(cum), UpperBound: ptr(float64(b) / 1e9)}
	}
	h.Schema, h.ZeroThreshold, h.ZeroCount = ptr(int32(nativeSchema)), ptr(nativeZeroThreshold), ptr(s.zero)
	h.PositiveSpan, h.PositiveDelta = nativeSpans(s.native)

	m := histMetric{desc: desc, labels: prometheus.MakeLabelPairs(desc, labelValues), h: h}
	if len(s.ex) == 0 {
		return m
	}
	exs := make([]prometheus.Exemplar, len(s.ex))
	for i, e := range s.ex {
		exs[i] = prometheus.Exemplar{
			Value:     float64(e.value) / 1e9,
			Labels:    prometheus.Labels{"trace_id": hex.EncodeToString(e.trace[:])},
			Timestamp: time.Unix(0, e.ts),
		}
	}
	withEx, err := prometheus.NewMetricWithExemplars(m, exs...)
	if err != nil { // only for labels over 128 runes, which 32 hex digits are not
		return m
	}
	return withEx
}

// nativeSpans encodes the native bucket counts (index 0 being key nativeMinKey) as spans and
// deltas. Like client_golang, it bridges gaps of up to two empty buckets within a span
// rather than start a new one.
func nativeSpans(counts []uint64) ([]*dto.BucketSpan, []int64) {
	var (
		spans  []*dto.BucketSpan
		deltas []int64
		prev   int64
		next   = -nativeMinKey // index of key 0: a first span's offset is its key
	)
	for i, c := range counts {
		if c == 0 {
			continue
		}
		gap := i - next
		if len(spans) == 0 || gap > 2 {
			spans = append(spans, &dto.BucketSpan{Offset: ptr(int32(gap)), Length: ptr(uint32(0))})
		} else {
			for range gap {
				*spans[len(spans)-1].Length++
				deltas = append(deltas, -prev)
				prev = 0
			}
		}
		*spans[len(spans)-1].Length++
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
		next = i + 1
	}
	return spans, deltas
}

func ptr[T any](v T) *T { return &v }
