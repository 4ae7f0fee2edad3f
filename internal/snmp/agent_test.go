package snmp

import (
	"context"
	"testing"
	"time"

	"govrrp/internal/agentx"
	"govrrp/internal/api"
)

type fakeSource struct {
	routers []api.RouterDetail
	calls   int
}

func (f *fakeSource) Details() []api.RouterDetail       { f.calls++; return f.routers }
func (f *fakeSource) Interfaces() []api.InterfaceStatus { return nil }
func (f *fakeSource) Router(name string) (api.RouterDetail, bool) {
	for _, r := range f.routers {
		if r.Name == name {
			return r, true
		}
	}
	return api.RouterDetail{}, false
}
func (f *fakeSource) Subscribe(ctx context.Context, n int) ([]api.Event, <-chan api.Event) {
	return nil, nil
}

func newTestSubagent(src Source, refresh time.Duration) *Subagent {
	in := fakeInput()
	return New(src, Options{Address: "/nonexistent", Refresh: refresh, IfIndex: in.IfIndex})
}

// A walk costs the daemon one snapshot per Refresh, not one per request.
func TestSubagentCachesSnapshots(t *testing.T) {
	src := &fakeSource{routers: fakeRouters()}
	s := newTestSubagent(src, time.Hour)
	for range 100 {
		s.current()
	}
	if src.calls != 1 {
		t.Fatalf("%d snapshots for 100 requests, want 1", src.calls)
	}
}

// A protocol error event sets vrrpv3StatisticsProtoErrReason [RFC 6527];
// other checks do not, and the notifications, with no session open, are
// dropped and counted rather than queued.
func TestSubagentProtoErr(t *testing.T) {
	src := &fakeSource{routers: fakeRouters()}
	s := newTestSubagent(src, time.Nanosecond)
	reason := agentx.OID{1, 3, 6, 1, 2, 1, 207, 1, 2, 5, 1, 6, 4, 10, 1}
	if got := s.current().Get(reason); got.Type != agentx.Integer || got.Int != 0 {
		t.Fatalf("before: %+v, want noError(0)", got)
	}
	s.event(&api.Event{Type: "discards", Router: "v2", Reason: "checksum"})
	s.event(&api.Event{Type: "discards", Router: "v2", Reason: "not_peer"})
	if got := s.current().Get(reason); got.Int != 3 {
		t.Fatalf("after a checksum error: %d, want checksumError(3)", got.Int)
	}
	s.event(&api.Event{Type: "discards", Router: "v2", Reason: "auth_failure"}) // vrrpTrapAuthFailure
	s.event(&api.Event{Type: "transition", Router: "v2", To: "Master"})         // both NewMaster
	s.event(&api.Event{Type: "transition", Router: "v2", To: "Backup"})         // none
	if n := s.ax.Dropped(); n != 4 {
		t.Fatalf("%d notifications dropped without a session, want 4 (protoError, authFailure, two newMaster)", n)
	}
}
