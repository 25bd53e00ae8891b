package xds

import (
	"sync"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
)

// checkedSet holds the messages a Translator has cached, and whether each was found valid,
// by identity: a cached message is the very one validated before, unchanged since, as
// Resources may not be modified. Only tracked messages are remembered, so that a late
// Validate of an old result cannot grow the set.
//
// It also holds, for each api listener the Translator built, the connection manager it
// packed into the listener's Any: Validate checks that message level by level, and resolves
// its references, without unpacking the Any (and so without validating again the routes
// that it shares with other listeners and with Envoy's route configurations).
type checkedSet struct {
	mu     sync.RWMutex
	valid  map[proto.Message]bool
	packed map[*listenerv3.Listener]*hcmv3.HttpConnectionManager
}

func newCheckedSet() *checkedSet {
	return &checkedSet{valid: map[proto.Message]bool{}, packed: map[*listenerv3.Listener]*hcmv3.HttpConnectionManager{}}
}

func (s *checkedSet) has(m proto.Message) bool {
	if s == nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.valid[m]
}

// add marks the tracked messages among ms valid.
func (s *checkedSet) add(ms ...proto.Message) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		if _, tracked := s.valid[m]; tracked {
			s.valid[m] = true
		}
	}
}

func (s *checkedSet) track(m proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid[m] = false
}

// trackPacked tracks an api listener and remembers the connection manager packed into it.
func (s *checkedSet) trackPacked(l *listenerv3.Listener, hcm *hcmv3.HttpConnectionManager) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid[l] = false
	s.packed[l] = hcm
}

// packedHCM returns the connection manager packed into api listener l, nil if l is not a
// tracked api listener.
func (s *checkedSet) packedHCM(l *listenerv3.Listener) *hcmv3.HttpConnectionManager {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.packed[l]
}

func (s *checkedSet) forget(ms ...proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		delete(s.valid, m)
		if l, ok := m.(*listenerv3.Listener); ok {
			delete(s.packed, l)
		}
	}
}
