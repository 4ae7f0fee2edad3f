package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"govrrp/internal/api"
)

// eventLog keeps the recent events for the API and fans new ones out to
// subscribers. Publishing never blocks and a subscriber costs at most
// subscriberBuffer events: one that falls behind is sent an "overflow"
// event and cut off (its channel closed) rather than slowing the routers or
// growing the daemon's memory.
type eventLog struct {
	mu   sync.Mutex
	ring []api.Event
	next int
	full bool
	subs map[chan api.Event]struct{}
	cut  uint64 // subscribers cut off for falling behind
	log  *slog.Logger
}

const (
	eventHistory = 1024
	// subscriberBuffer is how far a subscriber may fall behind: a burst of
	// transitions at a reload of hundreds of routers, not a stalled reader.
	subscriberBuffer = 256
)

func newEventLog(log *slog.Logger) *eventLog {
	if log == nil {
		log = slog.Default()
	}
	return &eventLog{ring: make([]api.Event, eventHistory), subs: map[chan api.Event]struct{}{}, log: log}
}

func (l *eventLog) publish(ev api.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = ev
	l.next = (l.next + 1) % len(l.ring)
	if l.next == 0 {
		l.full = true
	}
	for ch := range l.subs {
		// Only publish sends, under l.mu, so a free slot stays free.
		if len(ch) < cap(ch)-1 {
			ch <- ev
			continue
		}
		// The last slot is kept for saying why the stream ends.
		ch <- api.Event{Time: ev.Time, Type: "overflow", Detail: fmt.Sprintf("this stream fell %d events behind and was closed; reconnect (govrrp watch --history N, or ?history=N) to catch up", cap(ch)-1)}
		delete(l.subs, ch)
		close(ch)
		l.cut++
		l.log.Warn("an event stream fell behind and was closed", "buffer", cap(ch), "streams_cut", l.cut)
	}
}

// streams returns the number of open streams and of those cut off so far.
func (l *eventLog) streams() (open int, cut uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs), l.cut
}

// history returns up to n past events, oldest first.
func (l *eventLog) history(n int) []api.Event {
	size := l.next
	if l.full {
		size = len(l.ring)
	}
	n = min(max(n, 0), size)
	out := make([]api.Event, 0, n)
	for i := n; i > 0; i-- {
		out = append(out, l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}

func (l *eventLog) subscribe(ctx context.Context, n int) ([]api.Event, <-chan api.Event) {
	ch := make(chan api.Event, subscriberBuffer)
	l.mu.Lock()
	past := l.history(n)
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.subs[ch]; ok {
			delete(l.subs, ch)
			close(ch)
		}
	})
	return past, ch
}

func (l *eventLog) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		delete(l.subs, ch)
		close(ch)
	}
}
