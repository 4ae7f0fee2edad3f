package demo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// buildGovrrpd builds the daemon the lab runs.
func buildGovrrpd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "govrrpd")
	if out, err := exec.Command("go", "build", "-o", bin, "govrrp/cmd/govrrpd").CombinedOutput(); err != nil {
		t.Fatalf("build govrrpd: %v\n%s", err, out)
	}
	return bin
}

// ownLabs lists what this test process left on the machine.
func ownLabs() []lab.LabInfo {
	var out []lab.LabInfo
	for _, li := range lab.FindLabs() {
		if li.PID == os.Getpid() {
			out = append(out, li)
		}
	}
	return out
}

func requireClean(t *testing.T) {
	t.Helper()
	if left := ownLabs(); len(left) > 0 {
		t.Fatalf("lab not removed: %+v", left)
	}
}

// syncBuffer is the narration, readable while the demo writes it; it calls
// onLine for every write.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	onLine func(string)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onLine != nil {
		s.onLine(string(p))
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func opts(bin string, out *syncBuffer) Options {
	return Options{Govrrpd: bin, Interval: 20 * time.Millisecond, Hold: 300 * time.Millisecond, Out: out}
}

// The whole demo end to end, as `make demo` runs it: every step succeeds,
// each failover is seen by the host and recovers, and nothing is left
// behind. Then a Ctrl-C in the middle, and --keep.
func TestDemo(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	bin := buildGovrrpd(t)

	t.Run("full", func(t *testing.T) {
		out := &syncBuffer{}
		res, err := Run(context.Background(), opts(bin, out))
		if err != nil {
			t.Fatalf("demo failed: %v\n%s", err, out)
		}
		if len(res.Steps) != 3 {
			t.Fatalf("steps %+v", res.Steps)
		}
		for i, want := range []string{"r2", "r1", "r2"} {
			st := res.Steps[i]
			if st.Master != want {
				t.Errorf("%s: new master %s, want %s", st.Name, st.Master, want)
			}
			for f, g := range st.Outage {
				if !g.Recovered || st.Takeover[f] <= 0 {
					t.Errorf("%s %s: outage %+v, takeover %v", st.Name, famNames[f], g, st.Takeover[f])
				}
			}
		}
		text := out.String()
		for _, want := range []string{"▸ 6/6", "Master_Down_Interval", "Skew_Time", "Summary", "lab removed", "Next:", "sudo make demo ARGS=--keep"} {
			if !strings.Contains(text, want) {
				t.Errorf("narration lacks %q", want)
			}
		}
		if strings.Contains(text, "\x1b[") {
			t.Error("escape sequences off a terminal")
		}
		if t.Failed() {
			t.Log(text)
		}
		requireClean(t)
		if _, err := os.Stat(res.Dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", res.Dir, err)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &syncBuffer{onLine: func(s string) {
			if strings.Contains(s, "Cable pull") {
				cancel() // Ctrl-C while the failover runs
			}
		}}
		_, err := Run(ctx, opts(bin, out))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled\n%s", err, out)
		}
		if !strings.Contains(out.String(), "Interrupted") || !strings.Contains(out.String(), "lab removed") {
			t.Errorf("narration:\n%s", out)
		}
		requireClean(t)
	})

	t.Run("keep", func(t *testing.T) {
		out := &syncBuffer{}
		o := opts(bin, out)
		o.Keep = true
		res, err := Run(context.Background(), o)
		labs := ownLabs()
		t.Cleanup(func() {
			for _, li := range labs {
				lab.RemoveLab(li, 2*time.Second)
			}
			requireClean(t)
		})
		if err != nil {
			t.Fatalf("demo --keep failed: %v\n%s", err, out)
		}
		if len(labs) != 1 || !labs[0].Kept || len(labs[0].Namespaces) != 5 {
			t.Fatalf("kept lab: %+v", labs)
		}
		if !strings.Contains(out.String(), "--clean") || !strings.Contains(out.String(), res.Dir+"/r1.sock") {
			t.Errorf("no hints to explore and remove the lab:\n%s", out)
		}
		// The daemons outlive the run and answer on their sockets.
		pids, _ := exec.Command("ip", "netns", "pids", res.Base+"-r1").Output()
		if len(strings.Fields(string(pids))) != 1 {
			t.Errorf("r1 namespace runs %q, want one govrrpd", pids)
		}
		// lab.SweepStale leaves a kept lab alone.
		lab.SweepStale()
		if l := ownLabs(); len(l) != 1 {
			t.Errorf("sweep removed a kept lab: %+v", l)
		}
	})
}
