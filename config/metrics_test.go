package config

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTheStoreExposesItsVerdicts(t *testing.T) {
	store := NewStore()
	good := route("a", "  match: {prefix: /a}\n  backend: {address: 127.0.0.1:1}\n")
	store.Update(mustDecode(t, "a.yaml", good), nil)
	bad := route("a", "  match: {prefix: a}\n  backend: {address: 127.0.0.1:1}\n")
	store.Update(mustDecode(t, "a.yaml", bad+"---\n"+route("b", "  match: {prefix: b}\n  backend: {address: 127.0.0.1:1}\n")), nil)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(store)
	want := `
# HELP edgetel_config_policies Policies of the last update by verdict: accepted, rejected (nothing of it in force) or stale (rejected, its last good version in force).
# TYPE edgetel_config_policies gauge
edgetel_config_policies{verdict="accepted"} 0
edgetel_config_policies{verdict="rejected"} 1
edgetel_config_policies{verdict="stale"} 1
# HELP edgetel_config_routes Routes in force.
# TYPE edgetel_config_routes gauge
edgetel_config_routes 1
# HELP edgetel_config_updates_total Policy updates compiled: file changes, Kubernetes events and start-up.
# TYPE edgetel_config_updates_total counter
edgetel_config_updates_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"edgetel_config_policies", "edgetel_config_routes", "edgetel_config_updates_total"); err != nil {
		t.Error(err)
	}
}
