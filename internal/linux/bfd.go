package linux

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/bfd"
)

// Single-hop BFD sockets (RFC 5881): a BFDListener per interface and family
// receives every control packet to UDP 3784 there; a BFDSender per session
// sends from its own fixed source port. Both are non-blocking, have no
// goroutine, and cost no allocation per packet (TestBFDHotPathAllocs).

// BFDPacket is one received control packet with what the IP header said.
type BFDPacket struct {
	Payload []byte     // the UDP payload; points into the listener's buffers, valid until the next ReadBatch
	Src     netip.Addr // source address (IPv6 link-local with its zone dropped: the listener's interface is the zone)
	TTL     uint8      // TTL or hop limit as received (always 255: others are dropped)
	// Arrival is the kernel receive time (SO_TIMESTAMPNS, wall clock);
	// zero when the kernel gave none.
	Arrival time.Time
}

// BFDListenerStats are a listener's counters.
type BFDListenerStats struct {
	Received  uint64 // packets ReadBatch returned
	TTLDrops  uint64 // dropped: TTL or hop limit not 255 (RFC 5881 §5, GTSM)
	Truncated uint64 // longer than any control packet
	Overflow  uint64 // the kernel's drops, its buffer full (SO_RXQ_OVFL)
}

const (
	bfdSlots = 16
	// bfdDatagram is the largest control packet: the Length field is one
	// byte. Longer datagrams arrive with MSG_TRUNC and are counted.
	bfdDatagram = bfd.MaxLen
)

// BFDListener receives single-hop control packets on one interface and
// family.
type BFDListener struct {
	ifname string
	v6     bool
	fd     int
	rx     *rxRing
	closed atomic.Bool

	received, ttlDrops, truncated, overflow atomic.Uint64
}

// ListenBFD opens the receive socket of single-hop BFD on ifname for IPv4,
// or IPv6 when v6: UDP port 3784 on the wildcard address, bound to the
// device, asking for the TTL/hop limit and the arrival time of each packet.
// It opens in the calling thread's network namespace.
func ListenBFD(ifname string, v6 bool) (*BFDListener, error) {
	l, err := listenBFD(ifname, v6)
	if err != nil {
		return nil, fmt.Errorf("linux: bfd socket on %s (%s): %w", ifname, famName(v6), err)
	}
	return l, nil
}

func famName(v6 bool) string {
	if v6 {
		return "ipv6"
	}
	return "ipv4"
}

func listenBFD(ifname string, v6 bool) (l *BFDListener, err error) {
	fd, err := bfdSocket(ifname, v6)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	opts := [][3]int{{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1}, {unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1}}
	if v6 {
		opts = append(opts, [3]int{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1})
	} else {
		opts = append(opts, [3]int{unix.IPPROTO_IP, unix.IP_RECVTTL, 1})
	}
	for _, o := range opts {
		if err = unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			return nil, err
		}
	}
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: bfd.Port}
	if v6 {
		sa = &unix.SockaddrInet6{Port: bfd.Port}
	}
	if err = unix.Bind(fd, sa); err != nil {
		return nil, fmt.Errorf("bind port %d: %w", bfd.Port, err)
	}
	return &BFDListener{ifname: ifname, v6: v6, fd: fd, rx: newRxRing(fd, bfdSlots, bfdDatagram)}, nil
}

// bfdSocket is a non-blocking UDP socket of the family bound to ifname,
// sending with TTL/hop limit 255 and TOS/traffic class CS6.
func bfdSocket(ifname string, v6 bool) (int, error) {
	domain := unix.AF_INET
	if v6 {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	opts := [][3]int{{unix.IPPROTO_IP, unix.IP_TTL, bfd.TTL}, {unix.IPPROTO_IP, unix.IP_TOS, bfd.TOS}}
	if v6 {
		opts = [][3]int{{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1}, {unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, bfd.TTL},
			{unix.IPPROTO_IPV6, unix.IPV6_TCLASS, bfd.TOS}}
	}
	opts = append(opts, [3]int{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1})
	for _, o := range opts {
		if err = unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	if err = unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind to device: %w", err)
	}
	return fd, nil
}

// Unreachable reports whether err, from DialBFD, says that no route leads
// to the peer: an interface that has just appeared, before its address.
func Unreachable(err error) bool {
	return errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTUNREACH)
}

// Fd is the socket's fd, for the loop's Poller.
func (l *BFDListener) Fd() int { return l.fd }

// Interface is the device the listener is bound to.
func (l *BFDListener) Interface() string { return l.ifname }

// ReadBatch reads what waits without blocking into pkts; more reports that
// the socket may hold more. Packets with a TTL or hop limit other than 255
// are dropped and counted here (RFC 5881 §5), as are truncated ones. Each
// Payload is valid until the next call. It does not allocate.
func (l *BFDListener) ReadBatch(pkts []BFDPacket) (n int, more bool, err error) {
	if l.closed.Load() {
		return 0, false, errors.New("linux: bfd socket closed")
	}
	want := min(len(pkts), len(l.rx.hdrs))
	got, err := l.rx.recv(want)
	var f cmsgFacts
	var ttl, trunc uint64
	for i := range got {
		h := &l.rx.hdrs[i]
		oob := l.rx.oob[i*oobSlot : i*oobSlot+min(int(h.Hdr.Controllen), oobSlot)]
		parseCmsgs(oob, &f)
		if f.hasDrops {
			l.overflow.Store(uint64(f.drops))
		}
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			trunc++
			continue
		}
		if f.hops != bfd.TTL {
			ttl++
			continue
		}
		p := &pkts[n]
		p.Payload = l.rx.buf[i*l.rx.size : i*l.rx.size+int(h.Len)]
		p.TTL, p.Arrival = f.hops, f.arrival
		p.Src = sockaddrAddr(&l.rx.names[i], l.v6)
		n++
	}
	l.received.Add(uint64(n))
	if ttl > 0 {
		l.ttlDrops.Add(ttl)
	}
	if trunc > 0 {
		l.truncated.Add(trunc)
	}
	return n, got == want, err
}

// sockaddrAddr reads the address of a sockaddr_in or sockaddr_in6 the
// kernel wrote into name.
func sockaddrAddr(name *unix.RawSockaddrInet6, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(name.Addr).Unmap()
	}
	return netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(name)).Addr)
}

// Stats returns the listener's counters.
func (l *BFDListener) Stats() BFDListenerStats {
	return BFDListenerStats{Received: l.received.Load(), TTLDrops: l.ttlDrops.Load(), Truncated: l.truncated.Load(), Overflow: l.overflow.Load()}
}

// Close closes the socket. Only the owning loop may call it.
func (l *BFDListener) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return unix.Close(l.fd)
}

// BFDSender sends one session's control packets: a UDP socket bound to the
// interface, the local address and a source port in 49152–65535 fixed for
// its life (RFC 5881 §4), connected to the peer's port 3784.
type BFDSender struct {
	fd     int
	port   int
	sent   atomic.Uint64
	errors atomic.Uint64
	closed atomic.Bool
}

// DialBFD opens a session's sender on ifname from local (zero: the kernel
// picks the address) to peer. An IPv6 link-local peer or local address is
// scoped to ifname.
func DialBFD(ifname string, local, peer netip.Addr) (*BFDSender, error) {
	s, err := dialBFD(ifname, local, peer)
	if err != nil {
		return nil, fmt.Errorf("linux: bfd session on %s to %s: %w", ifname, peer, err)
	}
	return s, nil
}

// bindTries bounds the random source ports tried before giving up.
const bindTries = 64

func dialBFD(ifname string, local, peer netip.Addr) (s *BFDSender, err error) {
	v6 := peer.Is6() && !peer.Is4In6()
	if local.IsValid() && local.Is6() != v6 {
		return nil, errors.New("local address and peer of different families")
	}
	fd, err := bfdSocket(ifname, v6)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	var zone uint32
	if v6 {
		ifi, e := net.InterfaceByName(ifname)
		if e != nil {
			return nil, e
		}
		zone = uint32(ifi.Index)
	}
	port := 0
	for range bindTries {
		port = bfd.MinSourcePort + rand.IntN(bfd.MaxSourcePort-bfd.MinSourcePort+1)
		err = unix.Bind(fd, sockaddr(local, port, v6, zone))
		if !errors.Is(err, unix.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bind a source port: %w", err)
	}
	if err = unix.Connect(fd, sockaddr(peer, bfd.Port, v6, zone)); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &BFDSender{fd: fd, port: port}, nil
}

func sockaddr(a netip.Addr, port int, v6 bool, zone uint32) unix.Sockaddr {
	if v6 {
		sa := &unix.SockaddrInet6{Port: port}
		if a.IsValid() {
			sa.Addr = a.As16()
			if a.IsLinkLocalUnicast() {
				sa.ZoneId = zone
			}
		}
		return sa
	}
	sa := &unix.SockaddrInet4{Port: port}
	if a.IsValid() {
		sa.Addr = a.Unmap().As4()
	}
	return sa
}

// SourcePort is the session's fixed source port.
func (s *BFDSender) SourcePort() int { return s.port }

// Send writes one packet. It does not block: a full socket buffer or an
// ICMP error the kernel queued (the peer's port unreachable) is returned
// and counted, and the next packet goes out as usual.
func (s *BFDSender) Send(b []byte) error {
	for {
		_, err := unix.Write(s.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			s.errors.Add(1)
			return err
		}
		s.sent.Add(1)
		return nil
	}
}

// Counters returns the packets sent and refused.
func (s *BFDSender) Counters() (sent, errs uint64) { return s.sent.Load(), s.errors.Load() }

// Close closes the socket.
func (s *BFDSender) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return unix.Close(s.fd)
}
