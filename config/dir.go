package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/edgetel/edgetel/model"
)

// maxPolicyFile bounds what one policy file may hold; policies are small.
const maxPolicyFile = 4 << 20

// Dir is a directory of policy files (*.yaml, *.yml, searched recursively), read through an
// fs.FS so that the embedded examples and a real directory are read the same way.
//
// A file that cannot be read or decoded keeps the policies it had at the last good read, so
// that a half-saved file never removes a route from the edge; the problem is reported.
type Dir struct {
	fsys fs.FS
	name string // how files are named in messages: name/relative/path.yaml

	mu   sync.Mutex
	good map[string][]Policy // last good decode of each file
}

// NewDir returns a source reading fsys; name prefixes file names in messages.
func NewDir(fsys fs.FS, name string) *Dir {
	return &Dir{fsys: fsys, name: name, good: map[string][]Policy{}}
}

// Load reads every policy file. It returns the policies to compile — for broken files, their
// last good ones — and the problems found, joined.
func (d *Dir) Load() ([]Policy, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	files, err := d.files()
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrParse, d.name, err)
	}
	var out []Policy
	var errs []error
	good := make(map[string][]Policy, len(files))
	for _, f := range files {
		ps, err := d.decodeFile(f)
		if err != nil {
			errs = append(errs, err)
			if last, ok := d.good[f]; ok {
				ps = last
			}
		}
		good[f] = ps
		out = append(out, ps...)
	}
	d.good = good
	return out, errors.Join(errs...)
}

func (d *Dir) files() ([]string, error) {
	var files []string
	err := fs.WalkDir(d.fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && p != "." && strings.HasPrefix(e.Name(), ".") {
			return fs.SkipDir // ..data and friends of a mounted ConfigMap are read through their links
		}
		if ext := path.Ext(p); !e.IsDir() && (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

func (d *Dir) decodeFile(f string) ([]Policy, error) {
	name := path.Join(d.name, f)
	data, err := fs.ReadFile(d.fsys, f)
	if err != nil {
		return nil, &Problem{Source: model.Source{File: name}, Message: err.Error(), Err: ErrParse}
	}
	if len(data) > maxPolicyFile {
		return nil, &Problem{Source: model.Source{File: name}, Err: ErrParse,
			Message: fmt.Sprintf("is %d bytes, more than the %d a policy file may have", len(data), maxPolicyFile)}
	}
	return Decode(name, data)
}
