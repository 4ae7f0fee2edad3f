package linux

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// sender is the allocation-free addressing of one slot of the send batch
// (sendbatch.go): a destination and an IP_PKTINFO / IPV6_PKTINFO control
// message it owns, rewritten in place for each datagram.
//
// Hand-written because x/net's WriteTo allocates per call (the control
// message, the socket.Message and its buffer list, the sockaddr). The
// bytes handed to the kernel are those x/net sends (same pktinfo, same
// address, numeric IPv6 scope; TestSenderMatchesXNet, TestQueueFlush), so
// the wire is the same; TTL/hop limit 255 and TOS/traffic class 0xC0 are
// socket options set by Listen.
type sender struct {
	fam vrrp.Family
	// bad: the destination is not of the socket's family (a misconfigured
	// unicast peer); the packet is counted as a send error, never written.
	bad     bool
	to      unix.Sockaddr // *unix.SockaddrInet4 or *unix.SockaddrInet6, reused
	to4     unix.SockaddrInet4
	to6     unix.SockaddrInet6
	oob     []byte // one pktinfo control message
	pi4     *unix.Inet4Pktinfo
	pi6     *unix.Inet6Pktinfo
	ifindex int
}

func newSender(fam vrrp.Family, ifindex int) *sender {
	s := &sender{fam: fam, ifindex: ifindex}
	level, typ, size := unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo
	if fam == vrrp.IPv6 {
		level, typ, size = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo
	}
	// make returns memory aligned for the cmsghdr and the pktinfo after
	// it (CmsgLen(0) keeps that alignment).
	s.oob = make([]byte, unix.CmsgSpace(size))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&s.oob[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(size))
	data := unsafe.Pointer(&s.oob[unix.CmsgLen(0)])
	if fam == vrrp.IPv6 {
		s.pi6 = (*unix.Inet6Pktinfo)(data)
		s.pi6.Ifindex = uint32(ifindex)
		s.to = &s.to6
	} else {
		s.pi4 = (*unix.Inet4Pktinfo)(data)
		s.pi4.Ifindex = int32(ifindex)
		s.to = &s.to4
	}
	return s
}

// setSource puts src in the pktinfo: the IP source of the datagrams, sent
// out of the Conn's interface. An address of the other family leaves the
// source to the kernel, as x/net did.
func (s *sender) setSource(src netip.Addr) {
	if s.fam == vrrp.IPv6 {
		s.pi6.Addr = [16]byte{}
		if src.Is6() && !src.Is4In6() {
			s.pi6.Addr = src.As16()
		}
		return
	}
	s.pi4.Spec_dst = [4]byte{}
	if src.Is4() || src.Is4In6() {
		s.pi4.Spec_dst = src.As4()
	}
}

// setDest points the sockaddr at dst; IPv6 link-local destinations (the
// group ff02::12, fe80:: peers) are scoped to the interface by index.
func (s *sender) setDest(dst netip.Addr) {
	s.bad = false
	if s.fam == vrrp.IPv6 {
		if !dst.Is6() || dst.Is4In6() {
			s.bad = true
			return
		}
		s.to6.Addr = dst.As16()
		s.to6.ZoneId = 0
		if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() {
			s.to6.ZoneId = uint32(s.ifindex)
		}
		return
	}
	if !dst.Is4() && !dst.Is4In6() {
		s.bad = true
		return
	}
	s.to4.Addr = dst.As4()
}
