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
