package config

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a watcher waits after a change before it reloads, so that an
// editor's write-rename-chmod or a ConfigMap's symlink swap is read once, whole.
const DefaultDebounce = 200 * time.Millisecond

// WatchDir calls onChange after files under root change, until ctx is done. Directories
// created later are watched too. It returns once the watch is set up; errors setting it up
// are returned, errors afterwards are passed to onError.
func WatchDir(ctx context.Context, root string, debounce time.Duration, onChange func(), onError func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := addTree(w, root); err != nil {
		w.Close()
		return err
	}
	go func() {
		defer w.Close()
		var timer *time.Timer
		var fire <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) {
					if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
						_ = addTree(w, ev.Name)
					}
				}
				if timer == nil {
					timer = time.NewTimer(debounce)
				} else {
					timer.Reset(debounce)
				}
				fire = timer.C
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				onError(err)
			case <-fire:
				fire = nil
				onChange()
			}
		}
	}()
	return nil
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return w.Add(p)
		}
		return nil
	})
}
