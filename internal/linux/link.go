package linux

import (
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// LinkState is a snapshot of one watched interface: everything the daemon
// needs to decide Fault, to (re)open sockets and to pick advert sources.
// The watcher sends a new snapshot whenever any field changes.
type LinkState struct {
	Name      string
	Exists    bool       // false: the interface is gone (deleted, moved away)
	Index     int        // changes when the interface is deleted and re-created: reopen its sockets
	Up        bool       // admin up and carrier: false puts its virtual routers in Fault
	Primary   netip.Addr // advert source for IPv4 (spec §2); zero when none
	LinkLocal netip.Addr // advert source for IPv6; zero when none (or still tentative)
}

// Usable reports whether virtual routers may run on the interface.
func (s LinkState) Usable() bool { return s.Exists && s.Up }

// WatchConfig configures a LinkWatcher.
type WatchConfig struct {
	Interfaces []string
	// Exclude keeps our VIPs and virtual link-locals from being reported as
	// Primary/LinkLocal.
	Exclude func(netip.Addr) bool
	// Namespace to watch; nil: the caller's. Netlink must point at the same
	// namespace (nil: the caller's).
	Namespace *netns.NsHandle
	Netlink   *netlink.Handle
}

// LinkWatcher turns netlink link and address notifications into LinkState
// snapshots of the watched interfaces. It re-reads the interfaces on every
// notification rather than interpreting each message: the snapshot is then
// right whatever the order or loss of messages (it also resynchronises when
// the netlink socket overflows).
type LinkWatcher struct {
	cfg    WatchConfig
	h      *netlink.Handle
	events chan LinkState
	done   chan struct{}
	wg     sync.WaitGroup
	last   map[string]LinkState
	close  sync.Once
}

// WatchLinks subscribes to link and address changes and sends the initial
// state of every watched interface first.
func WatchLinks(cfg WatchConfig) (*LinkWatcher, error) {
	h := cfg.Netlink
	if h == nil {
		h = &netlink.Handle{}
	}
	w := &LinkWatcher{cfg: cfg, h: h, events: make(chan LinkState, 16*len(cfg.Interfaces)+16),
		done: make(chan struct{}), last: make(map[string]LinkState)}
	links := make(chan netlink.LinkUpdate, 64)
	addrs := make(chan netlink.AddrUpdate, 64)
	resync := make(chan struct{}, 1)
	onErr := func(error) {
		// Overflow (ENOBUFS) or a broken socket: re-read everything.
		select {
		case resync <- struct{}{}:
		default:
		}
	}
	if err := netlink.LinkSubscribeWithOptions(links, w.done, netlink.LinkSubscribeOptions{Namespace: cfg.Namespace, ErrorCallback: onErr}); err != nil {
		return nil, err
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, w.done, netlink.AddrSubscribeOptions{Namespace: cfg.Namespace, ErrorCallback: onErr}); err != nil {
		close(w.done)
		return nil, err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(w.events)
		w.refresh()
		for {
			select {
			case <-w.done:
				return
			case _, ok := <-links:
				if !ok {
					links = nil // subscription ended: keep address updates
				}
			case _, ok := <-addrs:
				if !ok {
					addrs = nil
				}
			case <-resync:
			}
			w.refresh()
		}
	}()
	return w, nil
}

// Events delivers snapshots; it is closed by Close. Read it promptly: the
// watcher waits for the reader when the buffer is full.
func (w *LinkWatcher) Events() <-chan LinkState { return w.events }

// Close ends the subscriptions.
func (w *LinkWatcher) Close() {
	w.close.Do(func() { close(w.done) })
	w.wg.Wait()
}

func (w *LinkWatcher) refresh() {
	for _, name := range w.cfg.Interfaces {
		s := ReadLinkState(w.h, name, w.cfg.Exclude)
		if old, ok := w.last[name]; ok && old == s {
			continue
		}
		w.last[name] = s
		select {
		case w.events <- s:
		case <-w.done:
			return
		}
	}
}

// ReadLinkState reads the current state of interface name.
func ReadLinkState(h *netlink.Handle, name string, exclude func(netip.Addr) bool) LinkState {
	if h == nil {
		h = &netlink.Handle{}
	}
	s := LinkState{Name: name}
	link, err := h.LinkByName(name)
	if err != nil {
		return s
	}
	a := link.Attrs()
	s.Exists, s.Index = true, a.Index
	lowerUp := a.RawFlags&unix.IFF_LOWER_UP != 0
	adminUp := a.RawFlags&unix.IFF_UP != 0
	s.Up = adminUp && lowerUp && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown)
	s.Primary, _ = SourceAddress(h, link, vrrp.IPv4, exclude)
	s.LinkLocal, _ = SourceAddress(h, link, vrrp.IPv6, exclude)
	return s
}
