package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// Fakes for the loop: a socket fed by the test, a poller that sleeps on
// channels, a clock the test moves. They let the whole daemon run under
// -race without a kernel.

// epoch is the wall-clock time of fakeClock's zero.
var epoch = time.Unix(1_700_000_000, 0)

// fakeClock is a loop clock the test moves (step mode), or that follows
// real time from its creation (goroutine mode).
type fakeClock struct {
	mu   sync.Mutex
	now  time.Duration
	real time.Time // zero: moved by the test
}

func (c *fakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.real.IsZero() {
		return time.Since(c.real)
	}
	return c.now
}

func (c *fakeClock) set(t time.Duration) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Arrived reads a fake stamp: epoch plus the time on the clock's scale.
func (c *fakeClock) Arrived(t time.Time) time.Duration {
	if t.IsZero() {
		return c.Now()
	}
	return t.Sub(epoch)
}

func stamp(at time.Duration) time.Time { return epoch.Add(at) }

// fakePkt is a datagram waiting in a fakeSocket.
type fakePkt struct {
	payload []byte
	ip      vrrp.IPHeader
	arrival time.Time
}

// sent is one advert a fake socket wrote.
type sent struct {
	VRID, Priority uint8
	Version        uint8
	Interval       time.Duration
	Batch          int // which Flush wrote it
}

// fakeSocket is a loop's socket: the test queues datagrams with deliver,
// and reads what the loop wrote with written.
type fakeSocket struct {
	mu      sync.Mutex
	in      []fakePkt
	head    int
	queued  []sent
	out     []sent
	batches int
	src     netip.Addr
	filter  linux.FilterSpec
	closed  bool
	ready   chan struct{} // signalled when a datagram is queued
	onFlush func()        // called by Flush (under no lock)
}

func newFakeSocket(src netip.Addr) *fakeSocket {
	return &fakeSocket{src: src, ready: make(chan struct{}, 1)}
}

func (s *fakeSocket) deliver(p ...fakePkt) {
	s.mu.Lock()
	s.in = append(s.in, p...)
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *fakeSocket) ReadBatch(pkts []linux.Packet) (int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	// Like the real socket, a read returns at most half a batch from the
	// main queue, and says whether it may hold more.
	for n < len(pkts)/2 && s.head < len(s.in) {
		p := &s.in[s.head]
		pkts[n] = linux.Packet{Payload: p.payload, IP: p.ip, Arrival: p.arrival}
		s.in[s.head] = fakePkt{}
		s.head++
		n++
	}
	more := s.head < len(s.in)
	if !more {
		s.in, s.head = s.in[:0], 0
	}
	return n, more, nil
}

func (s *fakeSocket) Queue(m *vrrp.Message, _ vrrp.ChecksumForm) error {
	s.mu.Lock()
	s.queued = append(s.queued, sent{VRID: m.VRID, Priority: m.Priority, Version: m.Version, Interval: m.Interval})
	s.mu.Unlock()
	return nil
}

func (s *fakeSocket) Flush() error {
	s.mu.Lock()
	if len(s.queued) > 0 {
		s.batches++
		for _, q := range s.queued {
			q.Batch = s.batches
			s.out = append(s.out, q)
		}
		s.queued = s.queued[:0]
	}
	f := s.onFlush
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

func (s *fakeSocket) written() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.out...)
}

func (s *fakeSocket) Source() netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src
}

func (s *fakeSocket) SetSource(a netip.Addr) {
	s.mu.Lock()
	s.src = a
	s.mu.Unlock()
}

func (s *fakeSocket) SetFilter(f *linux.FilterSpec) error {
	s.mu.Lock()
	s.filter = *f
	s.mu.Unlock()
	return nil
}

func (s *fakeSocket) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// fakePoller sleeps on the socket's ready channel, Wake, or a real timer.
type fakePoller struct {
	sock  *fakeSocket
	wake  chan struct{}
	quiet int // WaitQuiet calls, only from the loop
}

func newFakePoller(s *fakeSocket) *fakePoller {
	return &fakePoller{sock: s, wake: make(chan struct{}, 1)}
}

func (p *fakePoller) Wait(timeout time.Duration) error {
	p.sock.mu.Lock()
	waiting := p.sock.head < len(p.sock.in)
	p.sock.mu.Unlock()
	if waiting || timeout == 0 {
		return nil
	}
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-p.wake:
	case <-p.sock.ready:
	case <-tc:
	}
	return nil
}

func (p *fakePoller) WaitQuiet(timeout time.Duration) error {
	p.quiet++
	if timeout <= 0 {
		return nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.wake:
	case <-t.C:
	}
	return nil
}

func (p *fakePoller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *fakePoller) Close() error { return nil }

// advert encodes an advert of vrid from src as the wire carries it.
func advert(vrid, prio uint8, src netip.Addr, interval time.Duration, vips ...netip.Addr) []byte {
	m := vrrp.Message{Version: 3, Type: vrrp.TypeAdvertisement, VRID: vrid, Priority: prio, Family: vrrp.IPv4, Interval: interval, Addresses: vips}
	b, err := m.Encode(nil, src, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	if err != nil {
		panic(err)
	}
	return b
}

func pkt(payload []byte, src netip.Addr, at time.Duration) fakePkt {
	return fakePkt{payload: payload, ip: vrrp.IPHeader{Src: src, Dst: vrrp.MulticastIPv4, TTL: vrrp.TTL}, arrival: stamp(at)}
}

var (
	self4  = netip.MustParseAddr("10.77.0.1")
	peerA4 = netip.MustParseAddr("10.77.0.2")
	peerB4 = netip.MustParseAddr("10.77.0.3")
	peerC4 = netip.MustParseAddr("10.77.0.4")
)

func vipOf(vrid uint8) netip.Addr { return netip.AddrFrom4([4]byte{10, 78, 0, vrid}) }

// routerCfg is a VRRPv3 IPv4 router on eth0.
func routerCfg(name string, vrid, prio uint8, interval time.Duration) config.Router {
	return config.Router{Name: name, Interface: "eth0", VRID: vrid, Version: 3, Family: vrrp.IPv4, Priority: prio,
		AdvertInterval: interval, Preempt: true, Checksum: vrrp.ChecksumPseudoHeader,
		Addresses: []netip.Prefix{netip.PrefixFrom(vipOf(vrid), 24)}}
}

// quiet is a logger for tests that check behaviour, not log lines.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeDaemon is a Daemon whose loops run on fake sockets with a real-time
// fake clock; every interface exists and is up (index 2) unless the test
// says otherwise with setIndex.
func fakeDaemon(cfg *config.Config) (*Daemon, *fakeNet) {
	d := New(cfg, Options{Log: quiet})
	fn := &fakeNet{socks: map[ifaceKey]*fakeSocket{}, index: map[string]int{}}
	d.clock = &fakeClock{real: time.Now()}
	d.listen = func(key ifaceKey) (socket, poller, error) {
		switch st := fn.link(key.name); {
		case !st.Exists:
			return nil, nil, fmt.Errorf("listen on %s: %w", key.name, errNoLink)
		case !st.Primary.IsValid():
			return nil, nil, fmt.Errorf("listen on %s: %w", key.name, linux.ErrNoSource)
		}
		fn.mu.Lock()
		defer fn.mu.Unlock()
		s := newFakeSocket(self4)
		fn.socks[key] = s
		fn.opened++
		return s, newFakePoller(s), nil
	}
	d.openSender = func(c linux.ConnConfig) (sender, error) {
		fn.mu.Lock()
		defer fn.mu.Unlock()
		fn.senders = append(fn.senders, c)
		return newFakeSocket(c.Source), nil
	}
	d.rec.file = "" // tests that read it set their own
	d.addrs, d.announcer, d.watchLinks = recordedAddrs{&fn.addrs, d.rec}, &fn.ann, false
	fn.accept.addrs = &fn.addrs
	fn.routes.addrs = &fn.addrs
	d.routes = &fn.routes
	d.accept = &fn.accept
	d.linkState = fn.link
	return d, fn
}

var errNoLink = errors.New("no such interface")

type fakeNet struct {
	mu     sync.Mutex
	socks  map[ifaceKey]*fakeSocket
	opened int
	// senders are the configurations of the routers' own send sockets
	// (VMAC, unicast), in the order opened.
	senders []linux.ConnConfig
	index   map[string]int // by interface; absent: 2, 0: missing
	noAddr  map[string]bool
	down    map[string]bool // exists but not up (admin down or no carrier)
	mtu     map[string]int  // setMTU; 0: unknown
	addrs   fakeAddrs
	ann     fakeAnnouncer
	accept  fakeAccept // accept_test.go
	routes  fakeRoutes // routes_test.go
}

// setIndex makes interface name exist with index i, or be missing (0), and
// returns the state the link watcher would report.
func (f *fakeNet) setIndex(name string, i int) linux.LinkState {
	f.mu.Lock()
	f.index[name] = i
	f.mu.Unlock()
	return f.link(name)
}

// setAddress gives interface name its address (self4) or takes it away,
// and returns the state the link watcher would report.
func (f *fakeNet) setAddress(name string, has bool) linux.LinkState {
	f.mu.Lock()
	if f.noAddr == nil {
		f.noAddr = map[string]bool{}
	}
	f.noAddr[name] = !has
	f.mu.Unlock()
	return f.link(name)
}

// setUp makes interface name up or down (it still exists, with its
// address), and returns the state the link watcher would report.
func (f *fakeNet) setUp(name string, up bool) linux.LinkState {
	f.mu.Lock()
	if f.down == nil {
		f.down = map[string]bool{}
	}
	f.down[name] = !up
	f.mu.Unlock()
	return f.link(name)
}

// setMTU sets interface name's MTU and returns the state the link watcher
// would report.
func (f *fakeNet) setMTU(name string, mtu int) linux.LinkState {
	f.mu.Lock()
	if f.mtu == nil {
		f.mtu = map[string]int{}
	}
	f.mtu[name] = mtu
	f.mu.Unlock()
	return f.link(name)
}

// link is the daemon's linkState: the interface as the test set it.
func (f *fakeNet) link(name string) linux.LinkState {
	f.mu.Lock()
	i, ok := f.index[name]
	noAddr, down, mtu := f.noAddr[name], f.down[name], f.mtu[name]
	f.mu.Unlock()
	if !ok {
		i = 2
	}
	if i == 0 {
		return linux.LinkState{Name: name}
	}
	st := linux.LinkState{Name: name, Exists: true, Index: i, Up: !down, MTU: mtu}
	if !noAddr {
		st.Primary = self4
	}
	return st
}

// fakeAddrs records the installed addresses per device.
type fakeAddrs struct {
	mu       sync.Mutex
	on       map[string]map[netip.Prefix]bool
	noSource map[netip.Prefix]bool // added by AddNoSource (accept_test.go)
	// host is what the host itself put on each device: Flush removes the
	// ones equal to a VIP, as linux.Addresses does.
	host map[string][]netip.Prefix
}

// setHost gives dev the host's own addresses ps.
func (a *fakeAddrs) setHost(dev string, ps ...netip.Prefix) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.host == nil {
		a.host = map[string][]netip.Prefix{}
	}
	a.host[dev] = ps
}

// hostHas reports whether the host's address p is still on dev.
func (a *fakeAddrs) hostHas(dev string, p netip.Prefix) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(a.host[dev], p)
}

// Add installs p, unless the host has the address already: then it is
// left alone, as linux.Addresses does.
func (a *fakeAddrs) Add(dev string, p netip.Prefix) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.ContainsFunc(a.host[dev], func(h netip.Prefix) bool { return h.Addr() == p.Addr() }) {
		return linux.ErrNotOurs
	}
	if a.on == nil {
		a.on = map[string]map[netip.Prefix]bool{}
	}
	if a.on[dev] == nil {
		a.on[dev] = map[netip.Prefix]bool{}
	}
	a.on[dev][p] = true
	return nil
}

func (a *fakeAddrs) Remove(dev string, p netip.Prefix) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.on[dev], p)
	return nil
}

func (a *fakeAddrs) Flush(dev string, vips []netip.Addr) ([]netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var removed []netip.Prefix
	if a.host[dev] == nil {
		return nil, nil
	}
	a.host[dev] = slices.DeleteFunc(a.host[dev], func(p netip.Prefix) bool {
		if slices.Contains(vips, p.Addr()) {
			removed = append(removed, p)
			return true
		}
		return false
	})
	return removed, nil
}

func (a *fakeAddrs) Held(dev string, vips []netip.Addr) ([]netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var held []netip.Prefix
	for _, p := range a.host[dev] {
		if slices.Contains(vips, p.Addr()) {
			held = append(held, p)
		}
	}
	return held, nil
}

func (a *fakeAddrs) RemoveAll() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.on)
	return nil
}

func (a *fakeAddrs) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, m := range a.on {
		n += len(m)
	}
	return n
}

// fakeAnnouncer counts bursts.
type fakeAnnouncer struct {
	mu      sync.Mutex
	started int
	jobs    map[linux.AnnounceKey][]netip.Addr // running: started, not stopped
}

func (f *fakeAnnouncer) StartWith(k linux.AnnounceKey, _ net.HardwareAddr, vips []netip.Addr, _ linux.AnnounceConfig) error {
	f.mu.Lock()
	f.started++
	if f.jobs == nil {
		f.jobs = map[linux.AnnounceKey][]netip.Addr{}
	}
	f.jobs[k] = vips
	f.mu.Unlock()
	return nil
}

func (f *fakeAnnouncer) Stop(k linux.AnnounceKey) {
	f.mu.Lock()
	delete(f.jobs, k)
	f.mu.Unlock()
}
func (f *fakeAnnouncer) Close() {}

func (f *fakeNet) sock(name string) *fakeSocket {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.socks[ifaceKey{name, vrrp.IPv4}]
}

// startMissing starts a fake daemon on routers with interface iface
// missing, and returns its log, kept in a buffer; the daemon stops with
// the test.
func startMissing(t *testing.T, iface string, routers ...config.Router) (*Daemon, *fakeNet, *logBuffer) {
	t.Helper()
	d, fn := fakeDaemon(&config.Config{Routers: routers})
	logs := new(logBuffer)
	d.log = slog.New(slog.NewTextHandler(logs, nil))
	fn.setIndex(iface, 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, fn, logs
}
