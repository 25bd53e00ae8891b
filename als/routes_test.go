package als

import (
	"fmt"
	"testing"

	"github.com/edgetel/edgetel/model"
)

// routeNames are names of every length the index hashes differently, and long names that
// differ only in their middle bytes, which its cheap hash of short names would not see.
func routeNames() []string {
	names := []string{"a/b", "ns/r", "shop/cart", "shop/checkout", "shop/checkout-v2", "shop/checkout-v2x"}
	for i := range 500 {
		names = append(names, fmt.Sprintf("payments/%03d-route-of-the-same-prefix-and-suffix", i))
		names = append(names, fmt.Sprintf("t%d/r", i))
	}
	return names
}

func edgeOf(names ...string) *model.Edge {
	m := &model.Edge{}
	for _, n := range names {
		m.Routes = append(m.Routes, model.Route{Name: n})
	}
	return m
}

func TestRouteIndexFindsEveryRouteOfItsModelAndNothingElse(t *testing.T) {
	names := routeNames()
	x := NewRouteIndex(edgeOf(append(names, "shop/cart")...)) // a duplicate: the first counts
	for i, n := range names {
		if got := x.find([]byte(n)); got != int32(i+1) {
			t.Errorf("find(%q) = %d, want %d", n, got, i+1)
		}
	}
	for _, n := range []string{"", "a", "a/", "shop/cart ", "Shop/cart", "shop/checkout-v3",
		"payments/000-route-of-the-same-prefix-and-suffi", "payments/500-route-of-the-same-prefix-and-suffix", "t500/r"} {
		if got := x.find([]byte(n)); got != 0 {
			t.Errorf("find(%q) = %d, want 0: no such route", n, got)
		}
	}
	if got := NewRouteIndex(&model.Edge{}).find([]byte("shop/cart")); got != 0 {
		t.Errorf("a model without routes found one at %d", got)
	}
}

func TestDecoderResolvesEachRecordsRouteInItsModel(t *testing.T) {
	m := edgeOf("shop/cart", "shop/checkout") // realisticEntry's route is shop/checkout
	noRoute := realisticEntry(1)
	noRoute.CommonProperties.RouteName = ""
	unknown := realisticEntry(2)
	unknown.CommonProperties.RouteName = "shop/gone"
	msg := mustMarshal(t, httpMessage(identity("edge-1", "access"), realisticEntry(0), noRoute, unknown))

	d, b := NewDecoder(DefaultLimits()), &Batch{}
	d.SetRoutes(NewRouteIndex(m))
	if err := d.Decode(msg, b); err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		pos int
		ok  bool
	}{{1, true}, {0, false}, {0, false}} {
		rec := &b.Records[i]
		if pos, ok := rec.RouteIn(m); pos != want.pos || ok != want.ok {
			t.Errorf("record %d (route %q): RouteIn = %d, %v; want %d, %v", i, rec.RouteName, pos, ok, want.pos, want.ok)
		}
		if _, ok := rec.RouteIn(edgeOf("shop/cart", "shop/checkout")); ok {
			t.Errorf("record %d resolved in a model it was not decoded with", i)
		}
	}

	d.SetRoutes(nil)
	if err := d.Decode(msg, b); err != nil {
		t.Fatal(err)
	}
	if rec := &b.Records[0]; rec.Model != nil || rec.Route != 0 {
		t.Errorf("a decoder without a model resolved a record: %p, %d", rec.Model, rec.Route)
	}
}

// The receiver's decoders take the model in force from their next message on.
func TestReceiverResolvesRoutesInTheModelInForce(t *testing.T) {
	c := &collector{}
	r := newStartedReceiver(t, ReceiverConfig{}, c)
	client := serve(t, r)
	first, second := edgeOf("shop/checkout"), edgeOf("shop/cart", "shop/checkout")
	for i, m := range []*model.Edge{nil, first, second} {
		r.SetRoutes(NewRouteIndex(m))
		if err := send(t, client, httpMessage(identity("edge-1", "access"), realisticEntry(i))); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the record arrives", func() bool { return len(c.got()) == i+1 })
		rec := c.got()[i]
		if rec.Model != m {
			t.Errorf("message %d was resolved in model %p, want %p", i, rec.Model, m)
		}
		if m != nil {
			if pos, ok := rec.RouteIn(m); !ok || m.Routes[pos].Name != "shop/checkout" {
				t.Errorf("message %d: RouteIn = %d, %v; want shop/checkout's position", i, pos, ok)
			}
		}
	}
}
