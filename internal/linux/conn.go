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

	// SendOnly skips the group join and the receive side: for the VMAC
	// macvlan, which only sends (in bridge mode the parent's Conn receives
	// every advert, spec §9.1). Its Fds is empty and ReadBatch reads nothing.
	SendOnly bool

	// Netlink looks the interface up; nil: the caller's namespace.
	Netlink *netlink.Handle
}

// Packet is one received VRRP datagram with the facts of its IP header.
type Packet struct {
	Payload []byte        // the IP payload; points into the Conn's buffers, valid until the next ReadBatch
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

// ConnStats are the socket-level counters of a Conn.
type ConnStats struct {
	Received   uint64 // datagrams ReadBatch returned
	NotPeer    uint64 // unicast mode: dropped, source not a configured peer
	Sent       uint64 // datagrams written
	SendErrors uint64 // datagrams the kernel refused, or to a peer of the wrong family
	QueueDrops uint64 // datagrams Flush dropped because the socket's send buffer was full

	Rejected       uint64 // of Received: read from the reject socket (ReadBatch)
	Truncated      uint64 // longer than any advert (MSG_TRUNC): skipped unparsed
	Overflow       uint64 // main socket: datagrams the kernel dropped, its buffer full (SO_RXQ_OVFL)
	RejectOverflow uint64 // reject socket: the same; expected under a flood of junk
}

// ErrQueueFull reports that the socket's send buffer is full: the
// interface's writes are stuck, and Flush dropped adverts rather than block
// the event loop.
var ErrQueueFull = errors.New("linux: send queue full")

// ErrNoSource reports that the interface has no usable source address.
var ErrNoSource = errors.New("no usable source address")

// Conn is a raw IP-protocol-112 socket bound to one interface and family,
// shared by all virtual routers there, for one event loop to drive: the
// loop polls Fds (with a Poller), reads what arrived with ReadBatch
// (recvmmsg), validates and demultiplexes it itself, encodes the adverts of
// a step with Queue and writes them with one Flush (sendmmsg). The Conn has
// no goroutine and no lock on that path.
//
// A Conn has a single owner: ReadBatch, Queue, Flush, SetFilter and Close
// are called from the owning loop's thread only. Source and SetSource are
// the exception: safe from any goroutine (a new primary address may be
// learnt off the loop). Stats and IfIndex may be read from anywhere.
//
// Nothing blocks: reads and writes use MSG_DONTWAIT, and a full send
// buffer drops (ErrQueueFull), so a slow or failing interface never holds
// up the loop's timers.
type Conn struct {
	fam     vrrp.Family
	ifindex int
	ifname  string
	p4      *ipv4.PacketConn
	p6      *ipv6.PacketConn
	pc      net.PacketConn  // owns the main socket's fd
	rc      syscall.RawConn // pc's fd, for setsockopt

	dsts  []netip.Addr // group, or the unicast peers
	peers map[netip.Addr]bool

	poller *Poller // the loop's, once WatchWith: its readiness gates the reject socket

	srcMu sync.RWMutex // Source/SetSource may be called from any goroutine
	src   netip.Addr

	once sync.Once // Close

	received, notPeer, sent, sendErrors, queueDrops atomic.Uint64

	// Owned by the loop's thread, no locks.
	fd     int   // the main socket's fd (owned by pc)
	fds    []int // what the loop polls: main and reject, nil when SendOnly
	rx     *rxRing
	rej    *rxRing // the reject socket (SetFilter), nil when SendOnly
	tx     *txBatch
	closed atomic.Bool

	rejected, truncated, overflow, rejectOverflow atomic.Uint64
}

// Listen opens the socket of cfg.Interface for cfg.Family in the calling
// thread's network namespace: bound to the device (SO_BINDTODEVICE) so it
// sees nothing of other interfaces, the group joined on that interface
// only (multicast mode), TTL/hop limit 255, TOS 0xC0, multicast loop off.
// Its errors name the socket, interface and family once, then the cause
// ("linux: vrrp socket on eth0 (ipv4): socket: operation not permitted");
// the caller adds only which router it was for.
func Listen(cfg ConnConfig) (*Conn, error) {
	c, err := listen(cfg)
	if err != nil {
		what := "vrrp socket"
		if cfg.SendOnly {
			what = "vrrp send socket"
		}
		return nil, fmt.Errorf("linux: %s on %s (%v): %w", what, cfg.Interface, cfg.Family, bareOpError(err))
	}
	return c, nil
}

// bareOpError drops what a *net.OpError adds ("listen ip4:112 0.0.0.0"):
// Listen says which socket it is.
func bareOpError(err error) error {
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		return oe.Err
	}
	return err
}

func listen(cfg ConnConfig) (*Conn, error) {
	h := cfg.Netlink
	if h == nil {
		h = &netlink.Handle{}
	}
	link, err := h.LinkByName(cfg.Interface)
	if err != nil {
		return nil, err
	}
	ifi := &net.Interface{Index: link.Attrs().Index, Name: cfg.Interface, HardwareAddr: link.Attrs().HardwareAddr, Flags: link.Attrs().Flags}
	src := cfg.Source
	if !src.IsValid() {
		src, err = SourceAddress(h, link, cfg.Family, cfg.Exclude)
		if err != nil {
			return nil, err
		}
	}
	c := &Conn{
		fam: cfg.Family, ifindex: ifi.Index, ifname: ifi.Name, src: src,
		peers: make(map[netip.Addr]bool),
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
		return nil, err
	}
	if c.rc, err = c.pc.(syscall.Conn).SyscallConn(); err != nil {
		c.pc.Close()
		return nil, err
	}
	if err := c.setupBatch(cfg.SendOnly, len(cfg.Peers) == 0); err != nil {
		c.pc.Close()
		return nil, err
	}
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
	// and ReadBatch reads the real TTL, source and destination from it.
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
	// they must be counted [IMPL-3]; Queue has the codec compute it.
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

// Stats returns the socket counters.
func (c *Conn) Stats() ConnStats {
	return ConnStats{
		Received: c.received.Load(), NotPeer: c.notPeer.Load(), Sent: c.sent.Load(),
		SendErrors: c.sendErrors.Load(), QueueDrops: c.queueDrops.Load(),
		Rejected: c.rejected.Load(), Truncated: c.truncated.Load(),
		Overflow: c.overflow.Load(), RejectOverflow: c.rejectOverflow.Load(),
	}
}

// Close closes the sockets, dropping adverts still queued (Flush first to
// send them). The owning loop calls it after it stops polling Fds. After
// Close, ReadBatch returns net.ErrClosed, and so does a Flush of queued
// adverts (counted as send errors).
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		err = c.pc.Close()
		if c.rej != nil {
			unix.Close(c.rej.fd)
		}
	})
	return err
}

// SourceAddress picks the advert source of link for fam (spec §2): the
// first primary (non-secondary) IPv4 address, or the first non-tentative
// IPv6 link-local; addresses for which exclude is true (our VIPs, the
// virtual link-local) are never picked. None is ErrNoSource; the caller's
// error names the link and family.
func SourceAddress(h *netlink.Handle, link netlink.Link, fam vrrp.Family, exclude func(netip.Addr) bool) (netip.Addr, error) {
	if h == nil {
		h = &netlink.Handle{}
	}
	nf := netlink.FAMILY_V4
	if fam == vrrp.IPv6 {
		nf = netlink.FAMILY_V6
	}
	addrs, err := addrList(h, link, nf)
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
	return netip.Addr{}, ErrNoSource // the caller names the link and family
}
