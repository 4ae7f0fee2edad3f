package fsm

import "time"

// Clock gives the state machine its notion of now: a monotonic time since
// an arbitrary epoch. Deadlines reported by the Router are on this scale.
type Clock interface {
	Now() time.Duration
}

// RealClock is the production Clock: monotonic time since its creation.
type RealClock struct{ start time.Time }

// NewRealClock returns a clock whose epoch is now.
func NewRealClock() *RealClock { return &RealClock{start: time.Now()} }

// Now returns the monotonic time since the clock was created.
func (c *RealClock) Now() time.Duration { return time.Since(c.start) }

// Until converts a deadline to a wait, for time.Timer.Reset.
func (c *RealClock) Until(deadline time.Duration) time.Duration { return deadline - c.Now() }

// maxArrivalAge bounds how far back a kernel timestamp is believed: the
// stamps are wall-clock time, and a clock step must not move a timer far.
const maxArrivalAge = time.Second

// Arrived returns when a packet the kernel stamped t (wall clock,
// SO_TIMESTAMPNS; zero when it gave none) arrived, on Now's scale: an
// event loop hands packets to its state machines at their arrival, not at
// when it got to them.
func (c *RealClock) Arrived(t time.Time) time.Duration {
	now := c.Now()
	if t.IsZero() {
		return now
	}
	age := time.Since(t) // t has no monotonic reading: wall-clock difference
	if age < 0 || age > maxArrivalAge {
		return now
	}
	return now - age
}
