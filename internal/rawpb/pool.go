package rawpb

import (
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
)

// Buffer sizes the pool keeps, as powers of two: 256 B to 1 MiB.
const (
	minPoolShift = 8
	maxPoolShift = 20
)

// Pool is a gRPC buffer pool (for experimental.BufferPool) that keeps buffers of every
// power of two from 256 B to 1 MiB and hands them out as they were left, not cleared.
//
// gRPC's default pool clears a buffer's whole capacity on every Get and keeps 256 B,
// 4 KiB, 16 KiB, 32 KiB and 1 MiB: a server reading its connections 256 KiB at a time
// (grpc.ReadBufferSize) takes a 1 MiB buffer for each read and clears it, thousands of
// times a second at the access-log rate, which also evicts the data the decoder is about
// to read from the core's cache. Clearing buys nothing here: gRPC reads into every buffer
// it takes (a socket read, an HTTP/2 frame's payload, a marshalled message) and looks at
// no more than it read, and the sink's receivers look only at the messages gRPC hands them.
type Pool struct {
	tiers [maxPoolShift - minPoolShift + 1]sync.Pool
}

var _ mem.BufferPool = (*Pool)(nil)

// NewPool returns an empty pool.
func NewPool() *Pool { return new(Pool) }

// Get returns a buffer of length n, from the pool when it has one of n's size class.
func (p *Pool) Get(n int) *[]byte {
	shift := sizeShift(n)
	if shift > maxPoolShift {
		b := make([]byte, n)
		return &b
	}
	if b, ok := p.tiers[shift-minPoolShift].Get().(*[]byte); ok {
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<shift)
	return &b
}

// Put returns a buffer Get handed out. Buffers of other capacities (a prefix's capacity is
// its buffer's) are left to the garbage collector.
func (p *Pool) Put(b *[]byte) {
	c := cap(*b)
	shift := sizeShift(c)
	if c != 1<<shift || shift > maxPoolShift {
		return
	}
	p.tiers[shift-minPoolShift].Put(b)
}

// sizeShift is the smallest power of two, 256 or above, that holds n bytes.
func sizeShift(n int) int {
	if n <= 1<<minPoolShift {
		return minPoolShift
	}
	return bits.Len(uint(n - 1))
}
