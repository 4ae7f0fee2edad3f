package daemon

import (
	"sync"
	"time"
)

// rateLimiter logs a repeating condition at most once per period, with the
// number of occurrences since the last line: failed receive checks SHOULD be
// logged rate-limited [9568-7.1-a], and a flood of bad packets must not
// become a flood of log lines.
type rateLimiter struct {
	period time.Duration
	now    func() time.Time
	mu     sync.Mutex
	last   map[string]*rateEntry
}

type rateEntry struct {
	at      time.Time
	pending uint64
}

func newRateLimiter(period time.Duration) *rateLimiter {
	return &rateLimiter{period: period, now: time.Now, last: map[string]*rateEntry{}}
}

// log calls emit with the count of occurrences of key since the previous
// emission, unless one happened less than period ago.
func (l *rateLimiter) log(key string, emit func(count uint64)) {
	l.mu.Lock()
	e := l.last[key]
	if e == nil {
		e = &rateEntry{}
		l.last[key] = e
	}
	e.pending++
	now := l.now()
	if !e.at.IsZero() && now.Sub(e.at) < l.period {
		l.mu.Unlock()
		return
	}
	n := e.pending
	e.at, e.pending = now, 0
	l.mu.Unlock()
	emit(n)
}
