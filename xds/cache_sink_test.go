package xds

import (
	"fmt"
	"testing"

	"github.com/edgetel/edgetel/model"
)

func TestASinkWatchOnAnOutdatedVersionIsAnsweredAtOnce(t *testing.T) {
	sc := newSinkCache()
	sc.setEndpoints([]model.Endpoint{epA, epB})
	got, w, _ := sc.watch("n1", "stale")
	if got == nil || w != nil {
		t.Fatalf("watch on a stale version = %v, %v; want the assignment and no watch", got, w)
	}
	want, _ := Pin("n1", []model.Endpoint{epA, epB})
	if ep := got.cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress(); ep != want.Address {
		t.Errorf("n1 is served %s; want %s, its pin", ep, want.Address)
	}
}

func TestASinkChangeWakesOnlyTheNodesWhosePinMoved(t *testing.T) {
	sc := newSinkCache()
	before := []model.Endpoint{epA, epB, epC}
	sc.setEndpoints(before)
	watches := map[string]*sinkWatch{}
	for i := range 60 {
		node := fmt.Sprintf("n%d", i)
		sc.mu.Lock()
		known := sc.assignment(node).version
		sc.mu.Unlock()
		_, w, _ := sc.watch(node, known)
		if w == nil {
			t.Fatalf("node %s was answered though it holds the current version", node)
		}
		watches[node] = w
	}
	sc.setEndpoints([]model.Endpoint{epB, epC})
	for node, w := range watches {
		was, _ := Pin(node, before)
		select {
		case <-w.fired:
			if was != epA {
				t.Errorf("node %s, pinned to %s which stayed, was woken", node, was.Address)
			}
		default:
			if was == epA {
				t.Errorf("node %s, pinned to the removed %s, was not woken", node, epA.Address)
			}
		}
	}
	if n := sc.numWatches(); n == 0 || n == 60 {
		t.Errorf("%d watches remain open; want those of the nodes that did not move", n)
	}
}

func TestTheSinkIsServedWithoutEndpointsUntilItHasSome(t *testing.T) {
	sc := newSinkCache()
	sc.mu.Lock()
	got := sc.assignment("n1")
	sc.mu.Unlock()
	if got.cla.GetClusterName() != SinkCluster || len(got.cla.GetEndpoints()) != 0 {
		t.Errorf("a sink without endpoints is served %v; want an empty %s assignment", got.cla, SinkCluster)
	}
}
