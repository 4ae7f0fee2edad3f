package linux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// TOS / traffic class of adverts: CS6, as keepalived and FRR send (spec §2).
const tosCS6 = 0xC0

// ConnConfig configures one raw VRRP socket.
type ConnConfig struct {
	Interface string      // device to send and receive on (the parent, or a VMAC macvlan)
	Family    vrrp.Family // IPv4 or IPv6

	// Source is the IP source of adverts. Zero: the interface's primary IPv4
	// address, or its IPv6 link-local, looked up now (spec §2). The daemon
	// updates it with SetSource when the LinkWatcher reports a change.
	Source netip.Addr
	// Exclude keeps addresses (our VIPs, the virtual link-local) from being
	// picked as the source; nil excludes nothing.
	Exclude func(netip.Addr) bool

	// Peers switches to unicast (spec §2.1): adverts go to each peer, and
	// only adverts from a peer are accepted. Empty: multicast group.
	Peers []netip.Addr

	// SendOnly skips the group join: for the VMAC macvlan, which only sends
	// (in bridge mode the parent's Conn receives every advert, spec §9.1).
	// Do not call Serve on it.
	SendOnly bool

	// QueueLen bounds the adverts waiting to be written (default 64). A
	// full queue drops, it never blocks the sender (see Send).
	QueueLen int

	// Netlink looks the interface up; nil: the caller's namespace.
	Netlink *netlink.Handle
}

// Packet is one received VRRP datagram with the facts of its IP header.
type Packet struct {
	Payload []byte        // the IP payload; valid only during the Handler call, or until the next ReadBatch
	IP      vrrp.IPHeader // source, destination, TTL/hop limit as received
	IfIndex int           // receiving interface

	// Arrival is when the kernel received the datagram (SO_TIMESTAMPNS,
	// CLOCK_REALTIME: compare with time.Now, not with monotonic
	// deadlines across a clock step); zero when the kernel gave none.
	Arrival time.Time
	// Rejected: the datagram came from the reject socket, so the kernel
	// filter (SetFilter) found it not fit for this socket. It still goes
	// to the validator, which drops and counts it.
	Rejected bool
}

// Handler receives packets on the Conn's receive goroutine; it must not
// keep p or p.Payload after returning.
type Handler func(p *Packet)

// ConnStats are the socket-level counters of a Conn.
type ConnStats struct {
	Received   uint64 // datagrams handed to the Handler
	NotPeer    uint64 // unicast mode: dropped, source not a configured peer
	Sent       uint64 // datagrams written
	SendErrors uint64 // writes the kernel refused
	QueueDrops uint64 // adverts dropped because the send queue was full (Send), or the socket buffer (Flush)

	Rejected       uint64 // of Received: read from the reject socket (ReadBatch)
	Truncated      uint64 // longer than any advert (MSG_TRUNC): skipped unparsed
	Overflow       uint64 // main socket: datagrams the kernel dropped, its buffer full (SO_RXQ_OVFL)
	RejectOverflow uint64 // reject socket: the same; expected under a flood of junk
}

// ErrQueueFull reports that the interface's send queue is full: its writes
// are stuck, and the advert was dropped rather than block the caller.
var ErrQueueFull = errors.New("linux: send queue full")

// ErrNoSource reports that the interface has no usable source address.
var ErrNoSource = errors.New("linux: interface has no usable source address")

// Conn is a raw IP-protocol-112 socket bound to one interface and family,
// shared by all virtual routers there.
//
// Sending never blocks the caller: Send encodes into a preallocated buffer
// and hands it to the Conn's own writer goroutine through a bounded queue.
// So a slow or failing interface stalls only its own queue, never the timers
// of virtual routers on other interfaces (one Conn per interface).
type Conn struct {
	fam     vrrp.Family
	ifindex int
	ifname  string
	p4      *ipv4.PacketConn
	p6      *ipv6.PacketConn
	pc      net.PacketConn
	rc      syscall.RawConn // pc's fd, for the hand-made sendmsg and recvmsg

	dsts  []netip.Addr // group, or the unicast peers
	peers map[netip.Addr]bool

	srcMu sync.RWMutex
	src   netip.Addr

	free  chan *sendJob
	queue chan *sendJob
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	received, notPeer, sent, sendErrors, queueDrops atomic.Uint64

	// The event-loop path (ReadBatch, Queue, Flush): owned by the
	// loop's thread, no locks.
	fd     int   // the main socket's fd (owned by pc)
	fds    []int // what the loop polls: main and reject, nil when SendOnly
	rx     *rxRing
	rej    *rxRing // the reject socket (SetFilter), nil when SendOnly
	tx     *txBatch
	closed atomic.Bool

	rejected, truncated, overflow, rejectOverflow atomic.Uint64
}

type sendJob struct {
	buf []byte
	dst netip.Addr
	src netip.Addr
}

// Listen opens the socket of cfg.Interface for cfg.Family in the calling
// thread's network namespace: bound to the device (SO_BINDTODEVICE) so it
// sees nothing of other interfaces, the group joined on that interface
// only (multicast mode), TTL/hop limit 255, TOS 0xC0, multicast loop off.
func Listen(cfg ConnConfig) (*Conn, error) {
	h := cfg.Netlink
	if h == nil {
		h = &netlink.Handle{}
	}
	link, err := h.LinkByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("linux: interface %s: %w", cfg.Interface, err)
	}
	ifi := &net.Interface{Index: link.Attrs().Index, Name: cfg.Interface, HardwareAddr: link.Attrs().HardwareAddr, Flags: link.Attrs().Flags}
	src := cfg.Source
	if !src.IsValid() {
		src, err = SourceAddress(h, link, cfg.Family, cfg.Exclude)
		if err != nil {
			return nil, err
		}
	}
	qlen := cfg.QueueLen
	if qlen <= 0 {
		qlen = 64
	}
	c := &Conn{
		fam: cfg.Family, ifindex: ifi.Index, ifname: ifi.Name, src: src,
		peers: make(map[netip.Addr]bool),
		free:  make(chan *sendJob, qlen), queue: make(chan *sendJob, qlen),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for range qlen {
		c.free <- &sendJob{buf: make([]byte, 0, 1500)}
	}
	for _, p := range cfg.Peers {
		c.peers[p.Unmap()] = true
		c.dsts = append(c.dsts, p.Unmap())
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifi.Name)
		}); err != nil {
			return err
		}
		return serr
	}}
	ctx := context.Background()
	switch cfg.Family {
	case vrrp.IPv4:
		c.pc, err = lc.ListenPacket(ctx, "ip4:112", "0.0.0.0")
		if err == nil {
			err = c.setup4(ifi, len(cfg.Peers) == 0, !cfg.SendOnly)
		}
	case vrrp.IPv6:
		c.pc, err = lc.ListenPacket(ctx, "ip6:112", "::")
		if err == nil {
			err = c.setup6(ifi, len(cfg.Peers) == 0, !cfg.SendOnly)
		}
	default:
		err = vrrp.ErrBadFamily
	}
	if err != nil {
		if c.pc != nil {
			c.pc.Close()
		}
		return nil, fmt.Errorf("linux: vrrp socket on %s (%v): %w", cfg.Interface, cfg.Family, err)
	}
	if c.rc, err = c.pc.(syscall.Conn).SyscallConn(); err != nil {
		c.pc.Close()
		return nil, fmt.Errorf("linux: vrrp socket on %s (%v): %w", cfg.Interface, cfg.Family, err)
	}
	if err := c.setupBatch(cfg.SendOnly, len(cfg.Peers) == 0); err != nil {
		c.pc.Close()
		return nil, fmt.Errorf("linux: vrrp socket on %s (%v): %w", cfg.Interface, cfg.Family, err)
	}
	go c.writer()
	return c, nil
}

func (c *Conn) setup4(ifi *net.Interface, multicast, join bool) error {
	p := ipv4.NewPacketConn(c.pc)
	c.p4 = p
	if err := p.SetTOS(tosCS6); err != nil {
		return err
	}
	if err := p.SetTTL(vrrp.TTL); err != nil {
		return err
	}
	if err := p.SetMulticastTTL(vrrp.TTL); err != nil {
		return err
	}
	if err := p.SetMulticastLoopback(false); err != nil {
		return err
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	// No control messages: an IPv4 raw socket hands us the IP header,
	// and Serve reads the real TTL, source and destination from it.
	if multicast {
		c.dsts = []netip.Addr{vrrp.MulticastIPv4}
		if !join {
			return nil
		}
		return p.JoinGroup(ifi, &net.IPAddr{IP: vrrp.MulticastIPv4.AsSlice()})
	}
	return nil
}

func (c *Conn) setup6(ifi *net.Interface, multicast, join bool) error {
	p := ipv6.NewPacketConn(c.pc)
	c.p6 = p
	// No IPV6_CHECKSUM: the kernel would silently drop bad checksums, and
	// they must be counted [IMPL-3]; Send computes the checksum itself.
	if err := p.SetTrafficClass(tosCS6); err != nil {
		return err
	}
	if err := p.SetHopLimit(vrrp.TTL); err != nil {
		return err
	}
	if err := p.SetMulticastHopLimit(vrrp.TTL); err != nil {
		return err
	}
	if err := p.SetMulticastLoopback(false); err != nil {
		return err
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	// The validator needs the real hop limit and destination, which an
	// IPv6 raw socket only gives as control messages.
	if err := p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true); err != nil {
		return err
	}
	if multicast {
		c.dsts = []netip.Addr{vrrp.MulticastIPv6}
		if !join {
			return nil
		}
		return p.JoinGroup(ifi, &net.IPAddr{IP: vrrp.MulticastIPv6.AsSlice()})
	}
	return nil
}

// IfIndex returns the index of the interface the Conn is bound to.
func (c *Conn) IfIndex() int { return c.ifindex }

// Source returns the IP source adverts are sent from.
func (c *Conn) Source() netip.Addr {
	c.srcMu.RLock()
	defer c.srcMu.RUnlock()
	return c.src
}

// SetSource changes the IP source of adverts sent from now on (the
// interface's primary address changed). It is also the Local address the
// daemon should give the validator, to recognise our own adverts.
func (c *Conn) SetSource(a netip.Addr) {
	c.srcMu.Lock()
	c.src = a.Unmap()
	c.srcMu.Unlock()
}

// Send encodes m once per destination (the group, or each unicast peer,
// with the pseudo-header of that destination) from the current source, and
// queues the copies for the writer. It never blocks: when the queue is
// full it drops and returns ErrQueueFull. It does not allocate: each copy
// is encoded into the preallocated buffer of a queue slot (1500 bytes; a
// larger advert grows that buffer once, and it is kept).
func (c *Conn) Send(m *vrrp.Message, form vrrp.ChecksumForm) error {
	src := c.Source()
	if !src.IsValid() {
		return ErrNoSource
	}
	for _, dst := range c.dsts {
		var j *sendJob
		select {
		case j = <-c.free:
		default:
			c.queueDrops.Add(1)
			return ErrQueueFull
		}
		b, err := m.Encode(j.buf[:0], src, dst, form)
		if err != nil {
			c.free <- j
			return err
		}
		j.buf, j.dst, j.src = b, dst, src
		c.queue <- j // never blocks: as many slots as jobs
	}
	return nil
}

func (c *Conn) writer() {
	defer close(c.done)
	// The sockaddr and control message are rewritten only when the
	// destination or source changes, never built per packet (see sender).
	s := newSender(c.fam, c.ifindex)
	var lastSrc, lastDst netip.Addr
	for {
		var j *sendJob
		select {
		case j = <-c.queue:
		case <-c.stop:
			return
		}
		if j.src != lastSrc {
			lastSrc = j.src
			s.setSource(j.src)
		}
		if j.dst != lastDst {
			lastDst = j.dst
			s.setDest(j.dst)
		}
		if err := s.send(c.rc, j.buf); err != nil {
			c.sendErrors.Add(1)
		} else {
			c.sent.Add(1)
		}
		c.free <- j
	}
}

// Serve runs the receive loop, calling h for every datagram, until Close;
// it then returns nil. Call it once, from its own goroutine.
//
// The loop reads with recvmsg straight into buffers the Conn owns (x/net's
// ReadFrom allocates a control message, a header and an address per
// packet): an advert costs no allocation on the receive side.
func (c *Conn) Serve(h Handler) error {
	rc := c.rc
	r := newReader(c.fam)
	var p Packet
	p.IfIndex = c.ifindex
	for {
		if err := rc.Read(r.fn); err != nil {
			return nil // closed
		}
		if r.err != nil {
			select {
			case <-c.stop:
				return nil
			default:
			}
			continue // transient (ENOBUFS...): keep serving
		}
		if !r.parse(&p) {
			continue
		}
		if len(c.peers) > 0 && !c.peers[p.IP.Src] {
			c.notPeer.Add(1)
			continue
		}
		c.received.Add(1)
		h(&p)
	}
}

// Stats returns the socket counters.
func (c *Conn) Stats() ConnStats {
	return ConnStats{
		Received: c.received.Load(), NotPeer: c.notPeer.Load(), Sent: c.sent.Load(),
		SendErrors: c.sendErrors.Load(), QueueDrops: c.queueDrops.Load(),
		Rejected: c.rejected.Load(), Truncated: c.truncated.Load(),
		Overflow: c.overflow.Load(), RejectOverflow: c.rejectOverflow.Load(),
	}
}

// Close stops the writer (dropping queued adverts) and closes the sockets,
// which ends Serve. An event loop must stop polling Fds first.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		close(c.stop)
		err = c.pc.Close()
		if c.rej != nil {
			unix.Close(c.rej.fd)
		}
		<-c.done
	})
	return err
}

// SourceAddress picks the advert source of link for fam (spec §2): the
// first primary (non-secondary) IPv4 address, or the first non-tentative
// IPv6 link-local; addresses for which exclude is true (our VIPs, the
// virtual link-local) are never picked.
func SourceAddress(h *netlink.Handle, link netlink.Link, fam vrrp.Family, exclude func(netip.Addr) bool) (netip.Addr, error) {
	if h == nil {
		h = &netlink.Handle{}
	}
	nf := netlink.FAMILY_V4
	if fam == vrrp.IPv6 {
		nf = netlink.FAMILY_V6
	}
	addrs, err := h.AddrList(link, nf)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if exclude != nil && exclude(ip) {
			continue
		}
		if fam == vrrp.IPv4 {
			if ip.Is4() && a.Flags&unix.IFA_F_SECONDARY == 0 {
				return ip, nil
			}
			continue
		}
		if ip.Is6() && ip.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: %s (%v)", ErrNoSource, link.Attrs().Name, fam)
}
