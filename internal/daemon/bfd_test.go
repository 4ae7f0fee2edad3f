package daemon

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"govrrp/internal/bfdrun"
)

// Host stalls are logged at most once per stallEvery, each line counting
// the stalls since the last and the longest: a host stalling several times
// a second (a stolen hypervisor, 500 in 10 minutes seen by make bench)
// does not flood the log.
func TestStallLogBounded(t *testing.T) {
	logs := new(logBuffer)
	log := slog.New(slog.NewTextHandler(logs, nil))
	var q stallLog
	t0 := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	for i, ms := range []int{12, 30, 15, 11} {
		at := t0.Add(time.Duration(i) * time.Second)
		if i == 3 {
			at = t0.Add(stallEvery + time.Second)
		}
		q.stall(log, bfdrun.Stall{At: at, Length: time.Duration(ms) * time.Millisecond, Sessions: 1})
	}
	if n := logs.count("did not run govrrpd's BFD loop"); n != 2 {
		t.Fatalf("%d lines for 4 stalls over 11 s, want 2:\n%s", n, logs.b.String())
	}
	lines := strings.Split(strings.TrimSpace(logs.b.String()), "\n")
	if !strings.Contains(lines[0], "stalls=1 longest_ms=12") || !strings.Contains(lines[1], "stall_ms=11 sessions=1 stalls=3 longest_ms=30") {
		t.Fatalf("lines:\n%s", logs.b.String())
	}
}
