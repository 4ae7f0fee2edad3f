package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"govrrp/internal/api"
)

// A subscriber that never reads costs at most subscriberBuffer events: the
// publisher never blocks, the subscriber is told why its stream ends, it is
// cut off and counted (in the log and in the API's daemon status, which
// /metrics exports), and the others still get every event.
func TestEventSubscriberFallsBehind(t *testing.T) {
	var logBuf bytes.Buffer
	l := newEventLog(slog.New(slog.NewTextHandler(&logBuf, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, stalled := l.subscribe(ctx, 0)
	_, live := l.subscribe(ctx, 0)
	got := 0
	for range 10 * subscriberBuffer {
		l.publish(api.Event{Type: "priority"}) // would block here if a send could
		for len(live) > 0 {
			<-live
			got++
		}
	}
	if got != 10*subscriberBuffer {
		t.Fatalf("the reading subscriber got %d of %d events", got, 10*subscriberBuffer)
	}
	var evs []api.Event
	for ev := range stalled { // ends: the channel is closed
		evs = append(evs, ev)
	}
	if len(evs) != subscriberBuffer || evs[len(evs)-1].Type != "overflow" || !strings.Contains(evs[len(evs)-1].Detail, "fell 255 events behind") {
		t.Fatalf("stalled subscriber got %d events ending %+v", len(evs), evs[len(evs)-1])
	}
	if l.cut != 1 || strings.Count(logBuf.String(), "fell behind") != 1 {
		t.Fatalf("cut %d, log %q", l.cut, logBuf.String())
	}
	if st := (&Daemon{events: l}).Daemon(); st != (api.DaemonStatus{EventStreams: 1, EventStreamsDropped: 1}) {
		t.Fatalf("daemon status %+v, want the live stream open and the stalled one dropped", st)
	}
}
