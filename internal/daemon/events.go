package daemon

import (
	"context"
	"sync"

	"govrrp/internal/api"
)

// eventLog keeps the recent events for the API and fans new ones out to
// subscribers. Publishing never blocks: a subscriber that falls behind is
// cut off (its channel closed) rather than slowing the routers.
type eventLog struct {
	mu   sync.Mutex
	ring []api.Event
	next int
	full bool
	subs map[chan api.Event]struct{}
}

const eventHistory = 1024

func newEventLog() *eventLog {
	return &eventLog{ring: make([]api.Event, eventHistory), subs: map[chan api.Event]struct{}{}}
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
		select {
		case ch <- ev:
		default:
			delete(l.subs, ch)
			close(ch)
		}
	}
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
	ch := make(chan api.Event, 256)
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
