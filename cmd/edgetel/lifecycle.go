package main

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// component is what edgetel's parts have in common: Start returns fast, Shutdown drains.
type component interface {
	Start(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

type named struct {
	name string
	component
}

// shutdownTimeout bounds a clean stop; a component still draining then is cut short.
const shutdownTimeout = 15 * time.Second

// serveUntilDone starts the components in order, waits for ctx to end (Ctrl-C, SIGTERM), then shuts
// them down in reverse order, so that upstream parts stop before the ones they feed.
func serveUntilDone(ctx context.Context, parts []named) error {
	started, err := startAll(ctx, parts)
	if err == nil {
		<-ctx.Done()
		slog.Info("stopping")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for i := len(started) - 1; i >= 0; i-- {
		if serr := started[i].Shutdown(stopCtx); serr != nil {
			err = errors.Join(err, serr)
			slog.Error("shutdown", "component", started[i].name, "err", serr)
		}
	}
	return err
}

func startAll(ctx context.Context, parts []named) ([]named, error) {
	var started []named
	for _, p := range parts {
		if err := p.Start(ctx); err != nil {
			return started, errors.New(p.name + ": " + err.Error())
		}
		started = append(started, p)
	}
	return started, nil
}

// funcComponent adapts a pair of functions to a component.
type funcComponent struct {
	start func(context.Context) error
	stop  func(context.Context) error
}

func (f funcComponent) Start(ctx context.Context) error {
	if f.start == nil {
		return nil
	}
	return f.start(ctx)
}

func (f funcComponent) Shutdown(ctx context.Context) error {
	if f.stop == nil {
		return nil
	}
	return f.stop(ctx)
}
