package xds

import (
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// The registry that unpacks Anys is protobuf's global one: every extension this package
// emits is registered by importing its Go package here or in the translator, and an Any of
// a type not linked into the binary is reported as unknown rather than passed unchecked.

const anyName protoreflect.FullName = "google.protobuf.Any"

// checkEmbedded unpacks every Any inside m, validates what it holds and recurses into it.
func checkEmbedded(m protoreflect.Message, where string) []error {
	w := walkers.Get().(*anyWalker)
	w.where, w.path, w.errs = where, w.path[:0], nil
	w.message(m)
	errs := w.errs
	w.errs = nil
	walkers.Put(w)
	return errs
}

// walkers are reused: Validate walks every new route, ten thousand at a first publish, and
// a walker's path would otherwise be allocated and grown anew for each.
var walkers = sync.Pool{New: func() any { return &anyWalker{path: make([]step, 0, 16)} }}

type anyWalker struct {
	where string
	path  []step
	errs  []error
}

// step is one field on the way to an Any: name, name[index] or name["key"]. Kept apart and
// formatted only when there is something to report.
type step struct {
	name  string
	index int
	key   string
}

// message looks for Anys in the fields of m that can hold one. (Asking each such field
// whether it is set measured faster than ranging over the populated fields.)
func (w *anyWalker) message(m protoreflect.Message) {
	p := planOf(m.Descriptor())
	if p.isAny {
		w.unpack(m)
		return
	}
	for _, fd := range p.fields {
		if !m.Has(fd) {
			continue
		}
		name := string(fd.Name())
		switch v := m.Get(fd); {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				w.visit(step{name: name, index: -1, key: k.String()}, mv.Message())
				return true
			})
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				w.visit(step{name: name, index: i}, l.Get(i).Message())
			}
		default:
			w.visit(step{name: name, index: -1}, v.Message())
		}
	}
}

func (w *anyWalker) visit(s step, m protoreflect.Message) {
	w.path = append(w.path, s)
	w.message(m)
	w.path = w.path[:len(w.path)-1]
}

// unpack validates the message inside an Any: it must be of a known type, carry no field
// its type does not know (a sign of a wrong type_url), and pass its own rules.
func (w *anyWalker) unpack(m protoreflect.Message) {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		a = &anypb.Any{}
		proto.Merge(a, m.Interface())
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		w.fail("%s: cannot unpack: %v", a.GetTypeUrl(), err)
		return
	}
	if len(inner.ProtoReflect().GetUnknown()) > 0 {
		w.fail("%s: holds fields that its type does not have", a.GetTypeUrl())
	}
	if v, ok := inner.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			w.fail("%s: %v", a.GetTypeUrl(), err)
		}
	}
	w.visit(step{name: "(" + string(inner.ProtoReflect().Descriptor().FullName()) + ")", index: -1}, inner.ProtoReflect())
}

func (w *anyWalker) fail(format string, args ...any) {
	where := w.pathString()
	if w.where != "" {
		where = w.where + ": " + where
	}
	w.errs = append(w.errs, fmt.Errorf("%w: %s: %s", ErrInvalidTypedConfig, where, fmt.Sprintf(format, args...)))
}

func (w *anyWalker) pathString() string {
	var b strings.Builder
	for i, s := range w.path {
		if i > 0 && !strings.HasPrefix(s.name, "(") {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
		switch {
		case s.index >= 0:
			fmt.Fprintf(&b, "[%d]", s.index)
		case s.key != "":
			fmt.Fprintf(&b, "[%q]", s.key)
		}
	}
	return b.String()
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

// walkPlan says where to look for Anys in a message of one type: nowhere else than in the
// fields whose type can hold one, so that the walk skips the many subtrees (durations,
// addresses, matchers) that cannot.
type walkPlan struct {
	isAny  bool
	fields []protoreflect.FieldDescriptor
}

// plans memoizes walkPlans by message descriptor.
var plans sync.Map // protoreflect.MessageDescriptor → *walkPlan

func planOf(md protoreflect.MessageDescriptor) *walkPlan {
	if p, ok := plans.Load(md); ok {
		return p.(*walkPlan)
	}
	p := &walkPlan{isAny: md.FullName() == anyName}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		vd := fd
		if fd.IsMap() {
			vd = fd.MapValue()
		}
		if isMessage(vd) && mayHoldAny(vd.Message()) {
			p.fields = append(p.fields, fd)
		}
	}
	plans.Store(md, p)
	return p
}

// anyReach memoizes mayHoldAny by message type.
var anyReach sync.Map // protoreflect.FullName → bool

// mayHoldAny reports whether a message of type md can contain an Any at some depth. A type
// in a cycle still being explored counts as one that can: the answer may be too cautious,
// never too lax.
func mayHoldAny(md protoreflect.MessageDescriptor) bool {
	if v, ok := anyReach.Load(md.FullName()); ok {
		return v.(bool)
	}
	return reachAny(md, map[protoreflect.FullName]bool{})
}

func reachAny(md protoreflect.MessageDescriptor, visiting map[protoreflect.FullName]bool) bool {
	name := md.FullName()
	if v, ok := anyReach.Load(name); ok {
		return v.(bool)
	}
	if name == anyName || visiting[name] {
		return true
	}
	visiting[name] = true
	defer delete(visiting, name)
	found := false
	fields := md.Fields()
	for i := 0; i < fields.Len() && !found; i++ {
		fd := fields.Get(i)
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		found = isMessage(fd) && reachAny(fd.Message(), visiting)
	}
	anyReach.Store(name, found)
	return found
}
