package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgetel/edgetel/model"
)

// reloadingDir wires a directory to a store the way `edgetel xds --policies DIR` does.
func reloadingDir(t *testing.T, dir string, appliers ...Applier) (*Store, <-chan State) {
	t.Helper()
	src := NewDir(os.DirFS(dir), dir)
	store := NewStore(appliers...)
	states := make(chan State, 16)
	reload := func() {
		ps, err := src.Load()
		states <- store.Update(ps, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := WatchDir(ctx, dir, 20*time.Millisecond, reload, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	reload()
	return store, states
}

func next(t *testing.T, states <-chan State) State {
	t.Helper()
	select {
	case s := <-states:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s of a change")
		return State{}
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAChangedFileIsReloadedAndABrokenOneKeepsTheLastGoodConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "checkout.yaml")
	write(t, file, route("checkout", "  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n  timeout: 3s\n"))
	_, states := reloadingDir(t, dir)
	if s := next(t, states); len(s.Edge.Routes) != 1 || s.Edge.Routes[0].Timeout != 3*time.Second {
		t.Fatalf("first load: %+v", s.Edge.Routes)
	}

	write(t, file, route("checkout", "  match: {prefix: /checkout/}\n  backend: {address: 127.0.0.1:9004}\n  timeout: 5s\n"))
	if s := next(t, states); s.Edge.Routes[0].Timeout != 5*time.Second {
		t.Errorf("after an edit the timeout is %v, want 5s", s.Edge.Routes[0].Timeout)
	}

	write(t, file, "apiVersion: edgetel.io/v1alpha1\nkind: EdgeRoute\nmetadata: {name: checkout\n")
	s := next(t, states)
	if len(s.Edge.Routes) != 1 || s.Edge.Routes[0].Timeout != 5*time.Second {
		t.Errorf("a broken file changed the routes in force: %+v", s.Edge.Routes)
	}
	if !errors.Is(s.SourceErr, ErrParse) || !strings.Contains(s.SourceErr.Error(), "checkout.yaml") {
		t.Errorf("source error %v, want a parse error naming checkout.yaml", s.SourceErr)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if s := next(t, states); len(s.Edge.Routes) != 0 {
		t.Errorf("a deleted file's route stays in force: %+v", s.Edge.Routes)
	}
}

func TestARefusedModelLeavesTheLastGoodOneInForce(t *testing.T) {
	refuse := false
	applied := 0
	store := NewStore(ApplierFunc(func(e *model.Edge) error {
		if refuse {
			return errors.New("listener does not validate")
		}
		applied++
		return nil
	}))
	first := store.Update(mustDecode(t, "a.yaml", route("a", "  match: {prefix: /a}\n  backend: {address: 127.0.0.1:1}\n")), nil)
	refuse = true
	second := store.Update(mustDecode(t, "b.yaml", route("b", "  match: {prefix: /b}\n  backend: {address: 127.0.0.1:1}\n")), nil)
	if !errors.Is(second.RefusedErr, ErrRefused) || second.Edge != first.Edge || second.Generation != first.Generation {
		t.Errorf("state after a refusal %+v, want the first model in force and ErrRefused", second)
	}
	refuse = false
	third := store.Update(mustDecode(t, "b.yaml", route("b", "  match: {prefix: /b}\n  backend: {address: 127.0.0.1:1}\n")), nil)
	if third.RefusedErr != nil || third.Edge.Routes[0].Name != "shop/b" || applied != 2 {
		t.Errorf("state %+v after %d applies, want shop/b applied twice in all", third, applied)
	}
	if u, r := store.Counts(); u != 3 || r != 1 {
		t.Errorf("counts %d updates %d refused, want 3 and 1", u, r)
	}
}
