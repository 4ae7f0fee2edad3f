package linux

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// reader is the allocation-free receive state of a Conn: one recvmsg into
// fixed buffers, parsed by hand.
//
// IPv4 raw sockets deliver the IP header, so TTL, source and destination
// come from it. IPv6 raw sockets do not (spec §2): the source is the
// sockaddr, hop limit and destination come from IPV6_HOPLIMIT and
// IPV6_PKTINFO control messages.
type reader struct {
	fam  vrrp.Family
	buf  []byte
	oob  []byte
	name unix.RawSockaddrInet6
	iov  unix.Iovec
	msg  unix.Msghdr
	n    int
	oobn int
	err  error
	fn   func(fd uintptr) bool // bound once: no closure per packet
}

func newReader(fam vrrp.Family) *reader {
	r := &reader{fam: fam, buf: make([]byte, 65536), oob: make([]byte, 256)}
	r.iov.Base = &r.buf[0]
	r.iov.SetLen(len(r.buf))
	r.msg.Name = (*byte)(unsafe.Pointer(&r.name))
	r.msg.Iov = &r.iov
	r.msg.Iovlen = 1
	r.fn = r.read
	return r
}

func (r *reader) read(fd uintptr) bool {
	r.msg.Namelen = uint32(unsafe.Sizeof(r.name))
	r.msg.Control = &r.oob[0]
	r.msg.SetControllen(len(r.oob))
	n, _, e := syscall.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false // let the poller wait
	}
	r.err = nil
	if e != 0 {
		r.err = e
		return true
	}
	r.n, r.oobn = int(n), int(r.msg.Controllen)
	return true
}

// parse fills p from the last datagram; false means malformed, skip it.
func (r *reader) parse(p *Packet) bool {
	b := r.buf[:r.n]
	if r.fam == vrrp.IPv4 {
		if len(b) < 20 || b[0]>>4 != 4 {
			return false
		}
		ihl := int(b[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 || tot < ihl || tot > len(b) {
			return false
		}
		p.IP.TTL = b[8]
		p.IP.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.IP.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		p.Payload = b[ihl:tot]
		return true
	}
	p.IP.Src = netip.AddrFrom16(r.name.Addr)
	p.IP.Dst, p.IP.TTL = netip.Addr{}, 0
	oob := r.oob[:r.oobn]
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			break
		}
		data := oob[unix.CmsgLen(0):l]
		if h.Level == unix.IPPROTO_IPV6 {
			switch h.Type {
			case unix.IPV6_HOPLIMIT:
				if len(data) >= 4 {
					p.IP.TTL = uint8(binary.NativeEndian.Uint32(data))
				}
			case unix.IPV6_PKTINFO:
				if len(data) >= unix.SizeofInet6Pktinfo {
					p.IP.Dst = netip.AddrFrom16([16]byte(data[:16]))
				}
			}
		}
		adv := unix.CmsgSpace(l - unix.CmsgLen(0))
		if adv > len(oob) {
			break
		}
		oob = oob[adv:]
	}
	p.Payload = b
	return p.IP.Dst.IsValid()
}
