package rawpb

import "testing"

func TestPoolLendsBuffersOfTheSizeClassAbove(t *testing.T) {
	p := NewPool()
	for _, tc := range []struct {
		name     string
		n, wantC int
	}{
		{"an empty buffer has the smallest class", 0, 256},
		{"a byte has the smallest class", 1, 256},
		{"a power of two has its own class", 4096, 4096},
		{"a byte over a power of two has the next", 16<<10 + 1, 32 << 10},
		{"a 256 KiB read has a 256 KiB buffer", 256 << 10, 256 << 10},
		{"the largest class is 1 MiB", 1 << 20, 1 << 20},
		{"above it, a buffer of just the size", 1<<20 + 1, 1<<20 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := p.Get(tc.n)
			if len(*b) != tc.n || cap(*b) != tc.wantC {
				t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", tc.n, len(*b), cap(*b), tc.n, tc.wantC)
			}
			p.Put(b)
		})
	}
}

func TestPoolTakesBackOnlyWhatItsClassesHold(t *testing.T) {
	p := NewPool()
	odd := make([]byte, 100, 300) // not a power of two: the collector's
	p.Put(&odd)
	huge := make([]byte, 2<<20)
	p.Put(&huge)
	for range 100 {
		if b := p.Get(200); cap(*b) != 256 {
			t.Fatalf("Get(200) after foreign Puts: cap %d, want 256", cap(*b))
		}
		if b := p.Get(1 << 20); cap(*b) != 1<<20 {
			t.Fatalf("Get(1 MiB) after foreign Puts: cap %d, want 1 MiB", cap(*b))
		}
	}
}

func TestPoolReusesABufferAsItWasLeft(t *testing.T) {
	p := NewPool()
	// sync.Pool may drop what it holds at a collection: a reuse in some of many tries is
	// what the pool promises.
	for range 100 {
		b := p.Get(1000)
		(*b)[999] = 0x5a
		p.Put(b)
		if c := p.Get(1000); c == b {
			if (*c)[999] != 0x5a {
				t.Fatal("the pool cleared a buffer it lent again")
			}
			return
		}
	}
	t.Fatal("the pool never lent a buffer again")
}

func BenchmarkPoolGetPut(b *testing.B) {
	p := NewPool()
	for b.Loop() {
		p.Put(p.Get(256 << 10))
	}
}
