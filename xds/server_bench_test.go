package xds

import "testing"

// BenchmarkPublishOneRouteChange is the server's share of a one-route change at the scale of
// issue 3 (10,000 routes): validation, content versions and the snapshots, after the
// Translator's translation.
func BenchmarkPublishOneRouteChange(b *testing.B) {
	s, err := NewServer(quietServerConfig(""))
	if err != nil {
		b.Fatal(err)
	}
	e := benchEdge()
	t := NewTranslator()
	res, err := t.Translate(e)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Publish(res); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		res, err := t.Translate(withOneChange(e, n))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Publish(res); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishFull is a first publish at the scale of issue 3: translation, validation,
// content versions and snapshots of everything.
func BenchmarkPublishFull(b *testing.B) {
	e := benchEdge()
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewServer(quietServerConfig(""))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.PublishEdge(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishEdgeOneRouteChange is PublishEdge's steady state: translation, the gRPC
// flavour's listeners, validation of both flavours, versions and snapshots.
func BenchmarkPublishEdgeOneRouteChange(b *testing.B) {
	s, err := NewServer(quietServerConfig(""))
	if err != nil {
		b.Fatal(err)
	}
	e := benchEdge()
	if err := s.PublishEdge(e); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		if err := s.PublishEdge(withOneChange(e, n)); err != nil {
			b.Fatal(err)
		}
	}
}
