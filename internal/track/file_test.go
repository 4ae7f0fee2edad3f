package track

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The file's value is read as keepalived's track_file reads it (strtol base
// 0 of the first 127 bytes; garbage is 0; past 32 bits ignored).
func TestParseFileValue(t *testing.T) {
	for _, c := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"", 0, true}, {"0\n", 0, true}, {"5\n", 5, true}, {"-10", -10, true}, {"  +7 rest", 7, true},
		{"0x1f", 31, true}, {"010", 8, true}, {"abc", 0, true}, {"12abc", 12, true}, {"09", 0, true},
		{"2147483648", 2147483648, true}, {"4294967296", 0, false}, {"-2147483649", 0, false},
		{"99999999999999999999999", 0, false},
	} {
		v, ok := ParseFileValue(c.in)
		if v != c.v || ok != c.ok {
			t.Errorf("ParseFileValue(%q) = %d, %v; want %d, %v", c.in, v, ok, c.v, c.ok)
		}
	}
}

// How a value and a weight move the priority, as keepalived
// (process_update_vrrp_track_file_status): weight 0 is Fault while the value
// is not 0; otherwise value*weight clamped to -254..253 is added and -254 is
// Fault.
func TestFileObjectPriority(t *testing.T) {
	for _, c := range []struct {
		v      int64
		weight int
		prio   uint8
		fault  bool
	}{
		{0, 0, 100, false}, {1, 0, 100, true}, {-3, 0, 100, true},
		{0, 1, 100, false}, {20, 1, 120, false}, {-20, 1, 80, false}, {200, 1, 254, false},
		{1, -100, 1, false}, {3, -10, 70, false},
		{254, -1, 100, true}, {1, -254, 100, true}, {300, -1, 100, true}, {253, -1, 1, false},
	} {
		o := FileObject("file:/x", c.v, c.weight)
		prio, fault := Effective(100, []Object{o})
		if fault != c.fault || (!fault && prio != c.prio) {
			t.Errorf("value %d weight %d: priority %d fault %v; want %d %v", c.v, c.weight, prio, fault, c.prio, c.fault)
		}
	}
}

// Values are bounded by MaxFileRead: a huge file is not read past it.
func TestReadFileBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(p, []byte(strings.Repeat(" ", MaxFileRead)+"7"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, ok := ReadFile(p); v != 0 || !ok {
		t.Fatalf("read %d past the bound", v)
	}
	if v, ok := ReadFile(filepath.Join(t.TempDir(), "missing")); v != 0 || !ok {
		t.Fatalf("missing file read as %d, %v; want 0", v, ok)
	}
	// A FIFO with no writer reads as empty at once: it cannot hold the watcher.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, ok := ReadFile(fifo); v != 0 || !ok {
		t.Fatalf("FIFO read as %d, %v; want 0", v, ok)
	}
}

// WatchFiles reports the value at start and every change: written in place,
// replaced by a rename, removed (0).
func TestWatchFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "weight")
	if err := os.WriteFile(p, []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- WatchFiles(ctx, []string{p, filepath.Join(dir, "other")}, slog.Default(), func(path string, v int64) {
			if path == p {
				got <- v
			}
		})
	}()
	want := func(v int64) {
		t.Helper()
		select {
		case g := <-got:
			if g != v {
				t.Fatalf("value %d, want %d", g, v)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no report of %d", v)
		}
	}
	want(3)
	if err := os.WriteFile(p, []byte("-5"), 0o644); err != nil {
		t.Fatal(err)
	}
	want(-5)
	tmp := filepath.Join(dir, ".tmp")
	if err := os.WriteFile(tmp, []byte("9"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	want(9)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	want(0)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchFiles did not end with its context")
	}
}
