package linux

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

func waitState(t *testing.T, w *LinkWatcher, what string, ok func(LinkState) bool) LinkState {
	t.Helper()
	timeout := time.After(waitLong)
	var last LinkState
	for {
		select {
		case s, open := <-w.Events():
			if !open {
				t.Fatalf("%s: events closed", what)
			}
			last = s
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("%s: not seen within %v; last state %+v", what, waitLong, last)
		}
	}
}

// TestLinkWatcher: a secondary address added and removed, carrier loss and
// return, a primary address change, and the interface deleted and
// re-created, all seen through netlink; then a socket on the new interface
// works again.
func TestLinkWatcher(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	w, err := WatchLinks(WatchConfig{Interfaces: []string{"eth0"}, Namespace: &r1.NS, Netlink: r1.Handle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)

	first := waitState(t, w, "initial up", func(s LinkState) bool {
		return s.Usable() && s.Primary == r1.V4.Addr() && s.LinkLocal.IsValid()
	})

	// A secondary address (a configured advert source) comes and goes:
	// each a snapshot of its own, though the primary stays.
	r1.MustIP(t, "addr", "add", "10.77.0.21/24", "dev", "eth0")
	with := waitState(t, w, "secondary added", func(s LinkState) bool { return s.Addrs != first.Addrs && s.Primary == first.Primary })
	r1.MustIP(t, "addr", "del", "10.77.0.21/24", "dev", "eth0")
	without := waitState(t, w, "secondary removed", func(s LinkState) bool { return s.Addrs != with.Addrs && s.Primary == first.Primary })

	// An IPv6 address under DAD: a snapshot when it comes (tentative) and
	// another when DAD ends and it can be bound (a BFD local_address).
	r1.MustSysctl(t, "net/ipv6/conf/eth0/accept_dad", "1")
	r1.MustIP(t, "-6", "addr", "add", "fd77::21/64", "dev", "eth0")
	tentative := waitState(t, w, "IPv6 address added", func(s LinkState) bool { return s.Addrs != without.Addrs })
	waitState(t, w, "DAD done", func(s LinkState) bool { return s.Addrs != tentative.Addrs })
	r1.MustIP(t, "-6", "addr", "del", "fd77::21/64", "dev", "eth0")
	r1.MustSysctl(t, "net/ipv6/conf/eth0/accept_dad", "0")

	lan.Unplug(t, r1)
	waitState(t, w, "carrier loss", func(s LinkState) bool { return s.Exists && !s.Up })
	lan.Plug(t, r1)
	waitState(t, w, "carrier back", func(s LinkState) bool { return s.Usable() })

	r1.MustIP(t, "link", "set", "eth0", "down")
	waitState(t, w, "admin down", func(s LinkState) bool { return s.Exists && !s.Up })
	r1.MustIP(t, "link", "set", "eth0", "up")
	waitState(t, w, "admin up", func(s LinkState) bool { return s.Usable() })

	// Primary change: a new subnet first (deleting a primary deletes its
	// secondaries), then the old primary goes.
	r1.MustIP(t, "addr", "add", "10.78.0.1/24", "dev", "eth0")
	r1.MustIP(t, "addr", "del", r1.V4.String(), "dev", "eth0")
	waitState(t, w, "primary change", func(s LinkState) bool { return s.Primary == netip.MustParseAddr("10.78.0.1") })

	// Gone and back with a new ifindex.
	lan.Bridge.MustIP(t, "link", "del", r1.Port)
	waitState(t, w, "gone", func(s LinkState) bool { return !s.Exists })
	lan.Bridge.MustIP(t, "link", "add", r1.Port, "type", "veth", "peer", "name", "eth0", "netns", r1.Name)
	lan.Bridge.MustIP(t, "link", "set", r1.Port, "master", "br0", "up")
	r1.MustIP(t, "addr", "add", r1.V4.String(), "dev", "eth0")
	r1.MustIP(t, "link", "set", "eth0", "up")
	back := waitState(t, w, "back", func(s LinkState) bool { return s.Usable() && s.Primary == r1.V4.Addr() })
	if back.Index == first.Index {
		t.Fatalf("re-created interface kept index %d: the test proves nothing", back.Index)
	}

	// The daemon's reaction: a new socket on the new interface works.
	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4})
	if tx.IfIndex() != back.Index {
		t.Fatalf("socket on ifindex %d, want %d", tx.IfIndex(), back.Index)
	}
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	send(t, tx, advert(vrrp.IPv4, "10.77.0.254"))
	p := receive(t, rx)
	if _, err := check(p, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second}); err != nil || p.IP.Src != r1.V4.Addr() {
		t.Fatalf("advert from %v on the new interface: %v", p.IP.Src, err)
	}
}

// fakeNetlink stands in for the netlink subscriptions: it records each
// subscription and lets the test end one as the library does on a receive
// error (closing its channel). gate runs inside every subscribe call (n is
// 1 for the first of its kind) and may block or refuse.
type fakeNetlink struct {
	mu   sync.Mutex
	subs map[string][]*fakeSub
	gate func(kind string, n int) error
}

type fakeSub struct {
	once    sync.Once
	closeCh func()
	done    <-chan struct{}
}

func (s *fakeSub) kill() { s.once.Do(s.closeCh) }

func newFakeNetlink() *fakeNetlink { return &fakeNetlink{subs: map[string][]*fakeSub{}} }

func (f *fakeNetlink) add(kind string, closeCh func(), done <-chan struct{}) error {
	f.mu.Lock()
	n := len(f.subs[kind]) + 1
	f.mu.Unlock()
	if f.gate != nil {
		if err := f.gate(kind, n); err != nil {
			return err
		}
	}
	s := &fakeSub{closeCh: closeCh, done: done}
	f.mu.Lock()
	f.subs[kind] = append(f.subs[kind], s)
	f.mu.Unlock()
	go func() { <-done; s.kill() }() // like the library: socket closed, channel closed
	return nil
}

func (f *fakeNetlink) sub(kind string, i int) *fakeSub {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subs[kind][i]
}

func (f *fakeNetlink) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs[kind])
}

func (f *fakeNetlink) hooks(min, max time.Duration) watchHooks {
	return watchHooks{
		subLinks: func(ch chan<- netlink.LinkUpdate, done <-chan struct{}, _ netlink.LinkSubscribeOptions) error {
			return f.add("links", func() { close(ch) }, done)
		},
		subAddrs: func(ch chan<- netlink.AddrUpdate, done <-chan struct{}, _ netlink.AddrSubscribeOptions) error {
			return f.add("addrs", func() { close(ch) }, done)
		},
		backoffMin: min, backoffMax: max,
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestLinkWatcherResubscribes: when a subscription dies, the watcher opens
// a new one, closes the dead one's socket, and re-reads the interfaces, so
// a change made while it was deaf is reported. The fake subscriptions never
// notify anything: a change can only be seen through that re-read, and the
// test makes it while the re-subscription is in progress, after every
// earlier read.
func TestLinkWatcherResubscribes(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	r1 := lan.Nodes[0]
	f := newFakeNetlink()
	calls, release, stop := make(chan string), make(chan struct{}), make(chan struct{})
	f.gate = func(kind string, n int) error {
		if n > 1 {
			select {
			case calls <- kind:
			case <-stop:
				return errors.New("test over")
			}
			select {
			case <-release:
			case <-stop:
			}
		}
		return nil
	}
	w, err := watchLinks(WatchConfig{Interfaces: []string{"eth0"}, Namespace: &r1.NS, Netlink: r1.Handle}, f.hooks(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() { close(stop) }) // runs first: unblocks a pending subscribe
	waitState(t, w, "initial", func(s LinkState) bool { return s.Usable() && s.Primary == r1.V4.Addr() })

	resubscribe := func(kind string, change ...string) {
		t.Helper()
		f.sub(kind, 0).kill() // a receive error: the library closes the channel
		select {
		case k := <-calls:
			if k != kind {
				t.Fatalf("re-subscribed %s, want %s", k, kind)
			}
		case <-time.After(waitLong):
			t.Fatalf("%s: no re-subscription", kind)
		}
		r1.MustIP(t, change...)
		release <- struct{}{}
	}
	resubscribe("links", "link", "set", "eth0", "down")
	waitState(t, w, "down, read after re-subscribing", func(s LinkState) bool { return s.Exists && !s.Up })
	if !isClosed(f.sub("links", 0).done) {
		t.Error("dead link subscription's socket not closed")
	}

	resubscribe("addrs", "addr", "del", r1.V4.String(), "dev", "eth0")
	waitState(t, w, "primary gone, read after re-subscribing", func(s LinkState) bool { return s.Exists && !s.Primary.IsValid() })
	if !isClosed(f.sub("addrs", 0).done) {
		t.Error("dead address subscription's socket not closed")
	}
	if l, a := f.count("links"), f.count("addrs"); l != 2 || a != 2 {
		t.Fatalf("subscriptions: %d link, %d address; want 2 each", l, a)
	}
	if isClosed(f.sub("links", 1).done) || isClosed(f.sub("addrs", 1).done) {
		t.Fatal("new subscriptions closed while the watcher runs")
	}
	w.Close()
	if !isClosed(f.sub("links", 1).done) || !isClosed(f.sub("addrs", 1).done) {
		t.Fatal("Close left subscriptions open")
	}
}

// TestLinkWatcherBackoff: failed re-subscriptions are retried with a
// doubling wait, bounded by the maximum, and Close cancels a pending wait.
func TestLinkWatcherBackoff(t *testing.T) {
	refuse := func(_ string, n int) error {
		if n > 1 {
			return errors.New("netlink refused")
		}
		return nil
	}
	t.Run("bounded", func(t *testing.T) {
		f := newFakeNetlink()
		f.gate = refuse
		waits := make(chan time.Duration, 256)
		h := f.hooks(time.Millisecond, 8*time.Millisecond)
		h.onRetry = func(d time.Duration) {
			select {
			case waits <- d:
			default:
			}
		}
		// No interfaces: the watcher reads nothing from the kernel.
		w, err := watchLinks(WatchConfig{}, h)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		f.sub("links", 0).kill()
		want := []time.Duration{1, 2, 4, 8, 8, 8}
		for i, ms := range want {
			select {
			case d := <-waits:
				if d != ms*time.Millisecond {
					t.Fatalf("retry %d waits %v, want %v", i+1, d, ms*time.Millisecond)
				}
			case <-time.After(waitLong):
				t.Fatalf("retry %d never scheduled", i+1)
			}
		}
	})
	t.Run("cancellable", func(t *testing.T) {
		f := newFakeNetlink()
		f.gate = refuse
		scheduled := make(chan time.Duration, 1)
		h := f.hooks(time.Hour, time.Hour)
		h.onRetry = func(d time.Duration) { scheduled <- d }
		w, err := watchLinks(WatchConfig{}, h)
		if err != nil {
			t.Fatal(err)
		}
		f.sub("addrs", 0).kill()
		select {
		case <-scheduled:
		case <-time.After(waitLong):
			t.Fatal("no retry scheduled")
		}
		closed := make(chan struct{})
		go func() { w.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(waitLong):
			t.Fatal("Close waited for the backoff")
		}
		if _, open := <-w.Events(); open {
			t.Fatal("events not closed")
		}
		if !isClosed(f.sub("links", 0).done) {
			t.Fatal("Close left the link subscription open")
		}
	})
}
