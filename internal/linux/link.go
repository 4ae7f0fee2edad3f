package linux

import (
	"hash/fnv"
	"net/netip"
	"sync"
	"time"

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
	MTU       int        // bytes; an advert larger cannot be sent (0: unknown)
	// Addrs is a digest of the interface's addresses (our own excluded):
	// it changes with any of them, so the watcher reports a snapshot when
	// an address other than Primary/LinkLocal comes or goes (a configured
	// advert source).
	Addrs uint64
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
//
// A subscription that ends (the netlink library closes its channel on any
// receive error, ENOBUFS included) is opened again after a backoff of
// 50 ms doubling to at most 5 s, until Close; after each re-subscription the
// watcher re-reads every interface, so changes made while it was deaf are
// reported.
type LinkWatcher struct {
	cfg    WatchConfig
	h      *netlink.Handle
	events chan LinkState
	done   chan struct{}
	wg     sync.WaitGroup
	last   map[string]LinkState
	close  sync.Once
	resync chan struct{}
	hooks  watchHooks
}

// Backoff between attempts to re-subscribe.
const (
	resubscribeMin = 50 * time.Millisecond
	resubscribeMax = 5 * time.Second
)

// watchHooks are the watcher's seams for tests: the netlink subscriptions,
// the backoff bounds, and a report of each retry scheduled.
type watchHooks struct {
	subLinks   func(ch chan<- netlink.LinkUpdate, done <-chan struct{}, o netlink.LinkSubscribeOptions) error
	subAddrs   func(ch chan<- netlink.AddrUpdate, done <-chan struct{}, o netlink.AddrSubscribeOptions) error
	backoffMin time.Duration
	backoffMax time.Duration
	onRetry    func(wait time.Duration) // nil: nothing
}

func defaultWatchHooks() watchHooks {
	return watchHooks{
		subLinks: netlink.LinkSubscribeWithOptions, subAddrs: netlink.AddrSubscribeWithOptions,
		backoffMin: resubscribeMin, backoffMax: resubscribeMax,
	}
}

// subscription is one netlink subscription: its updates, and done, which
// closes its socket.
type subscription[T any] struct {
	ch   chan T
	done chan struct{}
}

func (s *subscription[T]) active() bool { return s.ch != nil }

// end closes the subscription's socket and drains what the library may
// still be sending, so its goroutine is not left blocked on a full channel.
func (s *subscription[T]) end() {
	if s.ch == nil {
		return
	}
	close(s.done)
	go func(ch chan T) {
		for range ch {
		}
	}(s.ch)
	s.ch, s.done = nil, nil
}

// lost forgets a subscription whose channel the library closed, and closes
// its socket (the library leaves that to done).
func (s *subscription[T]) lost() {
	close(s.done)
	s.ch, s.done = nil, nil
}

// WatchLinks subscribes to link and address changes and sends the initial
// state of every watched interface first.
func WatchLinks(cfg WatchConfig) (*LinkWatcher, error) {
	return watchLinks(cfg, defaultWatchHooks())
}

func watchLinks(cfg WatchConfig, hooks watchHooks) (*LinkWatcher, error) {
	h := cfg.Netlink
	if h == nil {
		h = &netlink.Handle{}
	}
	w := &LinkWatcher{cfg: cfg, h: h, events: make(chan LinkState, 16*len(cfg.Interfaces)+16),
		done: make(chan struct{}), last: make(map[string]LinkState), resync: make(chan struct{}, 1), hooks: hooks}
	var links subscription[netlink.LinkUpdate]
	var addrs subscription[netlink.AddrUpdate]
	if err := w.subscribeLinks(&links); err != nil {
		return nil, err
	}
	if err := w.subscribeAddrs(&addrs); err != nil {
		links.end()
		return nil, err
	}
	w.wg.Add(1)
	go w.run(&links, &addrs)
	return w, nil
}

// onErr is the subscriptions' error callback: overflow (ENOBUFS) or a
// broken socket. Re-read everything; a subscription the error ended is
// re-opened when its channel closes.
func (w *LinkWatcher) onErr(error) {
	select {
	case w.resync <- struct{}{}:
	default:
	}
}

func (w *LinkWatcher) subscribeLinks(s *subscription[netlink.LinkUpdate]) error {
	ch, done := make(chan netlink.LinkUpdate, 64), make(chan struct{})
	if err := w.hooks.subLinks(ch, done, netlink.LinkSubscribeOptions{Namespace: w.cfg.Namespace, ErrorCallback: w.onErr}); err != nil {
		close(done) // closes the socket if the library got that far
		return err
	}
	s.ch, s.done = ch, done
	return nil
}

func (w *LinkWatcher) subscribeAddrs(s *subscription[netlink.AddrUpdate]) error {
	ch, done := make(chan netlink.AddrUpdate, 64), make(chan struct{})
	if err := w.hooks.subAddrs(ch, done, netlink.AddrSubscribeOptions{Namespace: w.cfg.Namespace, ErrorCallback: w.onErr}); err != nil {
		close(done)
		return err
	}
	s.ch, s.done = ch, done
	return nil
}

func (w *LinkWatcher) run(links *subscription[netlink.LinkUpdate], addrs *subscription[netlink.AddrUpdate]) {
	defer w.wg.Done()
	defer close(w.events)
	defer links.end()
	defer addrs.end()

	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	var retryC <-chan time.Time // non-nil while a re-subscription is pending
	backoff := w.hooks.backoffMin
	var healthySince time.Time // when both subscriptions last came up
	schedule := func(lost bool) {
		if retryC != nil {
			return
		}
		// A subscription that lived longer than the longest wait was
		// healthy: start the backoff over. A failed attempt never does.
		if lost && time.Since(healthySince) > w.hooks.backoffMax {
			backoff = w.hooks.backoffMin
		}
		wait := backoff
		backoff = min(2*backoff, w.hooks.backoffMax)
		if w.hooks.onRetry != nil {
			w.hooks.onRetry(wait)
		}
		retry.Reset(wait)
		retryC = retry.C
	}

	w.refresh()
	for {
		select {
		case <-w.done:
			return
		case _, ok := <-links.ch: // nil channel while unsubscribed: never ready
			if !ok {
				links.lost()
				schedule(true)
			}
		case _, ok := <-addrs.ch:
			if !ok {
				addrs.lost()
				schedule(true)
			}
		case <-w.resync:
		case <-retryC:
			retryC = nil
			if !links.active() && w.subscribeLinks(links) != nil {
				schedule(false)
			}
			if !addrs.active() && w.subscribeAddrs(addrs) != nil {
				schedule(false)
			}
			if links.active() && addrs.active() {
				healthySince = time.Now()
			}
			// Then re-read: what changed while unsubscribed was
			// never notified.
		}
		w.refresh()
	}
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
	s.Exists, s.Index, s.MTU = true, a.Index, a.MTU
	lowerUp := a.RawFlags&unix.IFF_LOWER_UP != 0
	adminUp := a.RawFlags&unix.IFF_UP != 0
	s.Up = adminUp && lowerUp && (a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown)
	s.Primary, _ = SourceAddress(h, link, vrrp.IPv4, exclude)
	s.LinkLocal, _ = SourceAddress(h, link, vrrp.IPv6, exclude)
	s.Addrs = addrDigest(h, link, exclude)
	return s
}

// addrDigest is LinkState.Addrs: FNV-1a over link's addresses, in the
// kernel's order, but for those excluded (0 when unreadable), with whether
// each is still tentative (IPv6 DAD) or failed DAD: an address becomes
// usable (bind, a source) when DAD ends, and that is a change too.
func addrDigest(h *netlink.Handle, link netlink.Link, exclude func(netip.Addr) bool) uint64 {
	list, err := addrList(h, link, netlink.FAMILY_ALL)
	if err != nil {
		return 0
	}
	sum := fnv.New64a()
	for _, a := range list {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || (exclude != nil && exclude(ip.Unmap())) {
			continue
		}
		b, _ := ip.Unmap().MarshalBinary()
		ones, _ := a.Mask.Size()
		var dad byte
		if a.Flags&unix.IFA_F_TENTATIVE != 0 {
			dad |= 1
		}
		if a.Flags&unix.IFA_F_DADFAILED != 0 {
			dad |= 2
		}
		_, _ = sum.Write(append(b, byte(ones), dad))
	}
	return sum.Sum64()
}
