package chaos

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/test/interop"
)

func init() {
	cases = append(cases, chaosCase{name: "reload-storm", run: runReloadStorm})
}

const (
	stormHUPs  = 100 // to each daemon
	stormEvery = 30 * time.Millisecond
)

// runReloadStorm: 100 SIGHUPs 30 ms apart to the Master and to the Backup,
// the file alternately invalid and valid (the last one valid). Promise: no
// state change and no missed advert (no gap of 1.5 intervals in the
// Master's adverts on the wire), every refused reload logged, memory back
// to its level.
func runReloadStorm(t *testing.T, r *result) {
	lab, g1, g2 := labPair(t, vr(200), vr(100))
	time.Sleep(time.Second)
	type side struct {
		g       *interop.Govrrp
		ev      *reloadEvents
		valid   string
		before  api.RouterDetail
		use     usage
		peakRSS uint64
		logAt   int64
	}
	sides := []*side{{g: g1}, {g: g2}}
	for _, s := range sides {
		s.ev = watchReloads(t, s.g)
		s.valid = s.g.Config()
		s.before = detail(t, s.g)
		s.use = usageOf(s.g)
		s.logAt = fileSize(s.g.LogPath())
	}
	t0 := time.Now()
	for i := range stormHUPs {
		for _, s := range sides {
			conf := fmt.Sprintf("%s# storm %d\n", s.valid, i)
			if i%2 == 0 {
				conf += "no_such_key: storm\n" // refused: unknown key
			}
			writeAtomic(t, s.g.ConfigPath(), conf)
			if err := s.g.Proc().Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			s.peakRSS = max(s.peakRSS, usageOf(s.g).rss)
		}
		time.Sleep(stormEvery)
	}
	stormEnd := time.Now()
	time.Sleep(2 * time.Second) // the last reloads finish, memory settles
	src := lab.Source(t, g1, key)
	var gaps []time.Duration
	var prev time.Time
	missed := 0
	for _, a := range lab.Adverts(t).VR(key).From(src).Between(t0.Add(-interval), stormEnd.Add(interval)) {
		if !prev.IsZero() {
			gaps = append(gaps, a.Time.Sub(prev))
			if a.Time.Sub(prev) > interval*3/2 {
				missed++
			}
		}
		prev = a.Time
	}
	maxGap := time.Duration(0)
	for _, g := range gaps {
		maxGap = max(maxGap, g)
	}
	r.fig("%d SIGHUPs to each of Master and Backup in %.1f s, every other file invalid", stormHUPs, stormEnd.Sub(t0).Seconds())
	r.fig("Master's adverts during the storm: longest gap %v, %d gaps over 1.5 intervals", maxGap.Round(time.Millisecond), missed)
	for i, s := range sides {
		role := []string{"Master", "Backup"}[i]
		after := detail(t, s.g)
		use := usageOf(s.g)
		applied, refused := s.ev.counts()
		logged := len(refusedLog.FindAllString(readFrom(s.g.LogPath(), s.logAt), -1))
		r.fig("%s: %d reloads applied, %d refused (events), %d refusals logged; RSS %.1f→%.1f (peak %.1f) MiB",
			role, applied, refused, logged, mib(s.use.rss), mib(use.rss), mib(s.peakRSS))
		if moved(s.before, after) || after.State != role {
			r.broke(t, "the %s changed state during the storm: now %s; %s", role, after.State, since(s.before, after))
		}
		if bad := crashed(s.g); bad != "" || !s.g.Running() {
			r.broke(t, "the %s crashed (%q)", role, bad)
		}
		if refused == 0 || logged < refused {
			r.broke(t, "the %s refused %d reloads and logged %d refusals", role, refused, logged)
		}
		if use.rss > s.use.rss+8<<10 {
			r.broke(t, "the %s's RSS stayed up: %.1f→%.1f MiB", role, mib(s.use.rss), mib(use.rss))
		}
	}
	if missed > 0 {
		r.broke(t, "the Master missed adverts during the storm (%d gaps over 1.5 intervals, longest %v)", missed, maxGap.Round(time.Millisecond))
	}
}

// refusedLog and appliedLog recognise the daemon's log lines for a refused
// and an applied reload.
var (
	refusedLog = regexp.MustCompile(`(?i)reload refused`)
	appliedLog = regexp.MustCompile(`(?i)configuration reloaded`)
)

// reloadEvents counts the reload events on a daemon's event stream.
type reloadEvents struct {
	mu               sync.Mutex
	applied, refused int
	err              error // the stream ended early
}

func (e *reloadEvents) counts() (applied, refused int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.applied, e.refused
}

func watchReloads(t *testing.T, g *interop.Govrrp) *reloadEvents {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e := &reloadEvents{}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		err := g.Client().Events(ctx, 0, func(ev api.Event) {
			if ev.Type != "reload" {
				return
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if strings.HasPrefix(ev.Detail, "applied") {
				e.applied++
			} else {
				e.refused++
			}
		})
		e.mu.Lock()
		e.err = err
		e.mu.Unlock()
	}()
	time.Sleep(300 * time.Millisecond) // subscribed
	return e
}

// writeAtomic replaces path, so a reload never reads half a file.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns path's content from offset on.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= offset {
		return ""
	}
	b := make([]byte, fi.Size()-offset)
	n, _ := f.ReadAt(b, offset)
	return string(b[:n])
}
