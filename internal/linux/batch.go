package linux

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// The event-loop receive path: recvmmsg straight into buffers the Conn
// owns, from the main socket and then the reject socket (see SetFilter).
const (
	// rxSlots bounds the datagrams one ReadBatch takes from the main socket.
	rxSlots = 32
	// rejectSlots bounds those it takes from the reject socket, after the
	// main socket is empty: junk can never starve real adverts.
	rejectSlots = 8

	// A slot holds the largest advert plus its IP header; anything longer
	// is not VRRP and arrives with MSG_TRUNC. IPv4 raw sockets include the
	// header (60 bytes with options) and carry VRRPv2 at most (8 + 255·4
	// + 8 of auth data); IPv6 raw sockets deliver the payload only: 8 +
	// 255·16.
	maxDatagram4 = 60 + 8 + 255*4 + 8
	maxDatagram6 = 8 + 255*16

	oobSlot = 256 // hop limit, pktinfo, timestamp, drop count: ~120 bytes

	// mainRcvbuf lets the main socket absorb a burst (hundreds of
	// routers' adverts arriving together, a loop held up by a GC pause or
	// a slow hook) without drops; the kernel's default (~208 KiB of
	// truesize, a few hundred datagrams) is too tight for 10 ms intervals
	// on busy segments. Only relevant adverts reach it once SetFilter is
	// set, so a flood cannot fill it.
	mainRcvbuf = 1 << 20
	// rejectRcvbuf is small on purpose: under a flood of junk the reject
	// socket overflows (counted, SO_RXQ_OVFL) instead of holding memory.
	rejectRcvbuf = 64 << 10
)

// rxRing is one socket's recvmmsg state: fixed buffers, headers pointing
// into them, built once.
type rxRing struct {
	fd    int
	size  int
	buf   []byte
	oob   []byte
	names []unix.RawSockaddrInet6
	iovs  []unix.Iovec
	hdrs  []unix.Mmsghdr
}

func newRxRing(fd, slots, size int) *rxRing {
	r := &rxRing{
		fd: fd, size: size,
		buf: make([]byte, slots*size), oob: make([]byte, slots*oobSlot),
		names: make([]unix.RawSockaddrInet6, slots), iovs: make([]unix.Iovec, slots),
		hdrs: make([]unix.Mmsghdr, slots),
	}
	for i := range slots {
		r.iovs[i].Base = &r.buf[i*size]
		r.iovs[i].SetLen(size)
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.Iovlen = 1
		h.Control = &r.oob[i*oobSlot]
	}
	return r
}

// recv reads up to n datagrams without blocking; 0, nil when none waits.
func (r *rxRing) recv(n int) (int, error) {
	for i := range n {
		h := &r.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(oobSlot)
		h.Flags = 0
	}
	for {
		got, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(n), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			return int(got), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		}
		return 0, e
	}
}

// Fds returns the fds an event loop polls for reading: the main socket and
// the reject socket. Nil for a SendOnly Conn. The slice is the Conn's own:
// do not modify it.
func (c *Conn) Fds() []int { return c.fds }

// ReadBatch reads the datagrams waiting on the Conn without blocking: first
// the main socket, until it is empty, len(pkts) is reached or its 32 slots
// are used; then, only if the main socket was emptied, at most 8 from the
// reject socket (Rejected set). It returns 0, false, nil when nothing waits.
// more reports that the main socket may still hold datagrams (the read
// filled what it asked for): n alone cannot tell, since datagrams that are
// dropped on the way (NotPeer, Truncated) are not returned. A loop that
// must handle everything that arrived before a deadline ahead of the
// deadline reads again while more is true.
// Datagrams from other sources than the unicast peers are dropped and
// counted (NotPeer), as are those longer than any advert (Truncated).
//
// Each Packet's Payload points into the Conn's buffers and is valid until
// the next ReadBatch. It does not allocate. Only the owning event loop may
// call it. An error is a pending socket error (an ICMP report about a
// unicast peer, say), reported once with whatever was read before it: the
// Conn stays usable. A SendOnly Conn reads nothing.
func (c *Conn) ReadBatch(pkts []Packet) (n int, more bool, err error) {
	if c.rx == nil || len(pkts) == 0 {
		return 0, false, nil
	}
	if c.closed.Load() {
		return 0, false, net.ErrClosed
	}
	want := min(len(pkts), len(c.rx.hdrs))
	got, err := c.rx.recv(want)
	n = c.take(c.rx, got, pkts, 0, false)
	if err != nil || got == want || n == len(pkts) {
		return n, got == want, err
	}
	if c.poller != nil && !c.poller.Readable(c.rej.fd) {
		return n, false, nil // nothing to count: spare the system call
	}
	got, err = c.rej.recv(min(len(pkts)-n, len(c.rej.hdrs)))
	return c.take(c.rej, got, pkts, n, true), false, err
}

// WatchWith adds the Conn's fds to p, the Poller its loop sleeps on, and
// from then on reads the reject socket only when p's last Wait found it
// readable: under normal traffic it is empty, and trying it after every
// wake-up would double the system calls of a Backup.
func (c *Conn) WatchWith(p *Poller) error {
	for _, fd := range c.fds {
		if err := p.Add(fd); err != nil {
			return err
		}
	}
	c.poller = p
	return nil
}

// take parses the got datagrams of r into pkts from index n on and returns
// the new count.
func (c *Conn) take(r *rxRing, got int, pkts []Packet, n int, rejected bool) int {
	var f cmsgFacts
	var received, notPeer, truncated uint64
	for i := range got {
		h := &r.hdrs[i]
		oob := r.oob[i*oobSlot : i*oobSlot+min(int(h.Hdr.Controllen), oobSlot)]
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			parseCmsgs(oob, &f)
			c.noteDrops(&f, rejected)
			truncated++
			continue
		}
		p := &pkts[n]
		ok := parseDatagram(c.fam, r.buf[i*r.size:i*r.size+int(h.Len)], &r.names[i], oob, p, &f)
		c.noteDrops(&f, rejected)
		if !ok {
			continue
		}
		if len(c.peers) > 0 && !c.peers[p.IP.Src] {
			notPeer++
			continue
		}
		p.IfIndex, p.Rejected = c.ifindex, rejected
		received++
		n++
	}
	if received > 0 {
		c.received.Add(received)
		if rejected {
			c.rejected.Add(received)
		}
	}
	if notPeer > 0 {
		c.notPeer.Add(notPeer)
	}
	if truncated > 0 {
		c.truncated.Add(truncated)
	}
	return n
}

// noteDrops records the socket's kernel drop count, which SO_RXQ_OVFL
// reports (cumulative) with the datagrams queued after a drop.
func (c *Conn) noteDrops(f *cmsgFacts, rejected bool) {
	if !f.hasDrops {
		return
	}
	if rejected {
		c.rejectOverflow.Store(uint64(f.drops))
	} else {
		c.overflow.Store(uint64(f.drops))
	}
}

// setupBatch prepares the event-loop path after Listen opened the main
// socket: the send batch always, and for a receiving Conn the timestamp
// and drop-count options, the bigger buffer, and the reject socket.
func (c *Conn) setupBatch(sendOnly, multicast bool) error {
	if err := c.rc.Control(func(fd uintptr) { c.fd = int(fd) }); err != nil {
		return err
	}
	c.tx = newTxBatch(c.fam, c.ifindex)
	if sendOnly {
		return nil
	}
	if err := setRecvOpts(c.fd, c.fam, false); err != nil {
		return err
	}
	setRcvbuf(c.fd, mainRcvbuf)
	rfd, err := openReject(c.fam, c.ifindex, c.ifname, multicast)
	if err != nil {
		return err
	}
	size := maxDatagram4
	if c.fam == vrrp.IPv6 {
		size = maxDatagram6
	}
	c.rx = newRxRing(c.fd, rxSlots, size)
	c.rej = newRxRing(rfd, rejectSlots, size)
	c.fds = []int{c.fd, rfd}
	return nil
}

// setRecvOpts asks for the arrival timestamp and the drop count with every
// datagram, and on a bare IPv6 socket (x/net set them on the main one) for
// the hop limit and destination, which the validator needs.
func setRecvOpts(fd int, fam vrrp.Family, bare bool) error {
	opts := [][2]int{{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS}, {unix.SOL_SOCKET, unix.SO_RXQ_OVFL}}
	if bare && fam == vrrp.IPv6 {
		opts = append(opts, [2]int{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT}, [2]int{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO})
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o[0], o[1], 1); err != nil {
			return err
		}
	}
	return nil
}

// setRcvbuf sets the receive buffer, beyond net.core.rmem_max when the
// process may (SO_RCVBUFFORCE needs CAP_NET_ADMIN, which the daemon has);
// otherwise as much as rmem_max allows. Best effort: a smaller buffer
// still works.
func setRcvbuf(fd, size int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size)
	}
}

// openReject opens the reject socket: a second raw socket on the same
// device and family, joined like the main one, that receives nothing until
// SetFilter gives it the inverse of the main socket's filter.
func openReject(fam vrrp.Family, ifindex int, ifname string, join bool) (fd int, err error) {
	domain := unix.AF_INET
	if fam == vrrp.IPv6 {
		domain = unix.AF_INET6
	}
	fd, err = unix.Socket(domain, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, vrrp.IPProtocol)
	if err != nil {
		return -1, err
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	// Until SetFilter the main socket passes everything: a copy here
	// would be counted twice.
	if err = attachFilter(fd, dropAll); err != nil {
		return -1, err
	}
	if err = unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
		return -1, err
	}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rejectRcvbuf); err != nil {
		return -1, err
	}
	if err = setRecvOpts(fd, fam, true); err != nil {
		return -1, err
	}
	if join {
		if fam == vrrp.IPv6 {
			err = unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP,
				&unix.IPv6Mreq{Multiaddr: vrrp.MulticastIPv6.As16(), Interface: uint32(ifindex)})
		} else {
			err = unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP,
				&unix.IPMreqn{Multiaddr: vrrp.MulticastIPv4.As4(), Ifindex: int32(ifindex)})
		}
		if err != nil {
			return -1, err
		}
	}
	// What arrived between socket() and the filter: duplicates, discard.
	var b [1]byte
	for {
		if _, _, e := unix.Recvfrom(fd, b[:], unix.MSG_DONTWAIT|unix.MSG_TRUNC); e != nil {
			break
		}
	}
	return fd, nil
}
