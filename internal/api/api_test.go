package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type fakeBackend struct {
	events   chan Event
	disabled bool // gw's
	level    string
}

func (f *fakeBackend) Routers() []RouterStatus {
	return []RouterStatus{{Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv4", Version: 3, State: "Master", Priority: 150, EffectivePriority: 150}}
}

func (f *fakeBackend) Router(name string) (RouterDetail, bool) {
	if name != "gw" {
		return RouterDetail{}, false
	}
	return RouterDetail{RouterStatus: f.Routers()[0], Discards: map[string]uint64{"ttl": 3}}, true
}

func (f *fakeBackend) Daemon() DaemonStatus {
	return DaemonStatus{EventStreams: 1, EventStreamsDropped: 2}
}

func (f *fakeBackend) Interfaces() []InterfaceStatus {
	return []InterfaceStatus{{Interface: "eth0", Family: "ipv4", Routers: 1, UnknownVRID: 4, LastUnknownVRID: 52, LastUnknownFrom: "10.77.0.9"}}
}

func (f *fakeBackend) BFD() BFDStatus {
	return BFDStatus{Sessions: []BFDSession{{Name: "frr", Interface: "eth0", Peer: "10.77.0.2", State: "Up", TxIntervalMS: 10,
		Counters: map[string]uint64{BFDCounterFailures: 1}}}, Listeners: []BFDListener{}}
}

func (f *fakeBackend) Subscribe(ctx context.Context, history int) ([]Event, <-chan Event) {
	return []Event{{Type: "transition", Router: "gw", From: "Backup", To: "Master"}}[:min(history, 1)], f.events
}

func (f *fakeBackend) Reload() ReloadResult { return ReloadResult{OK: false, Error: "c.yaml:3:5: bad"} }

func (f *fakeBackend) SetDisabled(name string, off bool) (AdminResult, bool) {
	if name != "gw" {
		return AdminResult{}, false
	}
	res := AdminResult{Router: name, Disabled: off, Changed: f.disabled != off, State: "Master"}
	if f.disabled = off; off {
		res.State = "Initialize"
	}
	return res, true
}

func (f *fakeBackend) LogLevel() string { return cmp.Or(f.level, "info") }

func (f *fakeBackend) SetLogLevel(s string) error {
	if _, err := ParseLogLevel(s); err != nil {
		return err
	}
	f.level = s
	return nil
}

func serve(t *testing.T, b Backend) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Handler(b)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	return NewClient(sock)
}

func TestAPI(t *testing.T) {
	b := &fakeBackend{events: make(chan Event, 1)}
	c := serve(t, b)
	ctx := context.Background()
	rs, err := c.Routers(ctx)
	if err != nil || len(rs) != 1 || rs[0].State != "Master" {
		t.Fatalf("Routers: %v %v", rs, err)
	}
	d, err := c.Router(ctx, "gw")
	if err != nil || d.Discards["ttl"] != 3 {
		t.Fatalf("Router: %+v %v", d, err)
	}
	ifs, err := c.Interfaces(ctx)
	if err != nil || len(ifs) != 1 || ifs[0].UnknownVRID != 4 || ifs[0].LastUnknownVRID != 52 {
		t.Fatalf("Interfaces: %+v %v", ifs, err)
	}
	bs, err := c.BFD(ctx)
	if err != nil || len(bs.Sessions) != 1 || bs.Sessions[0].State != "Up" || bs.Sessions[0].TxIntervalMS != 10 || bs.Sessions[0].Counters[BFDCounterFailures] != 1 {
		t.Fatalf("BFD: %+v %v", bs, err)
	}
	if _, err := c.Router(ctx, "nope"); !IsNotFound(err) {
		t.Fatalf("unknown router: %v", err)
	}
	if st, err := c.Daemon(ctx); err != nil || st != (DaemonStatus{EventStreams: 1, EventStreamsDropped: 2}) {
		t.Fatalf("Daemon: %+v %v", st, err)
	}
	res, err := c.Reload(ctx)
	if err != nil || res.OK || res.Error == "" {
		t.Fatalf("Reload: %+v %v", res, err)
	}
	b.events <- Event{Type: "transition", Router: "gw", From: "Master", To: "Backup"}
	close(b.events)
	var got []string
	if err := c.Events(ctx, 1, func(ev Event) { got = append(got, ev.From+">"+ev.To) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "Backup>Master,Master>Backup" {
		t.Fatalf("events %v", got)
	}
}

// A CLI that can't reach the daemon says so and how to fix it.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	c := NewClient(filepath.Join(dir, "missing.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Routers(ctx)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "is govrrpd running?") || !strings.Contains(err.Error(), "missing.sock") {
		t.Fatalf("got %v", err)
	}
}

// A second daemon must not steal a live socket; a stale one is replaced.
func TestListenRefusesLiveSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := Listen(sock, -1); err == nil || !strings.Contains(err.Error(), "another govrrpd") {
		t.Fatalf("second Listen: %v", err)
	}
	ln.Close()
	// net.UnixListener.Close removes the file; leave a stale one behind.
	if err := os.WriteFile(sock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ln2, err := Listen(sock, -1)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}
