package handoff

import "fmt"

// Bounds of the queue settings every receiver takes.
const (
	MaxSize    = 1 << 16
	MaxWorkers = 256
)

// Settings are a receiver's queue settings as its config holds them: how many items
// (Queue.Size), how many bytes (Queue.MaxCost) and how many workers. Zero means the
// receiver's default. The receivers check and default them alike, here.
type Settings struct {
	Size    int
	Cost    int64
	Workers int
}

// Check reports the first setting out of range, naming it as the receiver's config does:
// sizeField (QueueBatches, QueueRequests), QueueBytes, Workers. def are the defaults.
func (s Settings) Check(sizeField string, def Settings) error {
	switch {
	case s.Size < 0 || s.Size > MaxSize:
		return fmt.Errorf("%s is %d, want 0 (default %d) to %d", sizeField, s.Size, def.Size, MaxSize)
	case s.Cost < 0:
		return fmt.Errorf("QueueBytes is %d, want 0 (default %d) or more", s.Cost, def.Cost)
	case s.Workers < 0 || s.Workers > MaxWorkers:
		return fmt.Errorf("Workers is %d, want 0 (default %d) to %d", s.Workers, def.Workers, MaxWorkers)
	}
	return nil
}

// WithDefaults returns s with its zero settings taken from def.
func (s Settings) WithDefaults(def Settings) Settings {
	if s.Size == 0 {
		s.Size = def.Size
	}
	if s.Cost == 0 {
		s.Cost = def.Cost
	}
	if s.Workers == 0 {
		s.Workers = def.Workers
	}
	return s
}
