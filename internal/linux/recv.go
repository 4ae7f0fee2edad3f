package linux

import (
	"encoding/binary"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// parseDatagram fills p from one datagram as a raw socket of family fam
// received it: b the data, name the source sockaddr (IPv6), oob the control
// messages; f receives the socket facts (drop counter) the control
// messages carried. False means malformed: skip it.
func parseDatagram(fam vrrp.Family, b []byte, name *unix.RawSockaddrInet6, oob []byte, p *Packet, f *cmsgFacts) bool {
	parseCmsgs(oob, f)
	p.Arrival = f.arrival
	if fam == vrrp.IPv4 {
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
	p.IP.Src = netip.AddrFrom16(name.Addr)
	p.IP.Dst, p.IP.TTL = f.dst, f.hops
	p.Payload = b
	return p.IP.Dst.IsValid()
}

// cmsgFacts are what the control messages of one datagram say.
type cmsgFacts struct {
	arrival  time.Time  // SCM_TIMESTAMPNS (CLOCK_REALTIME); zero when absent
	hops     uint8      // IPV6_HOPLIMIT, or IP_TTL (UDP sockets: BFD)
	dst      netip.Addr // IPV6_PKTINFO; invalid when absent
	drops    uint32     // SO_RXQ_OVFL: the socket's drop count so far
	hasDrops bool
}

// Native layouts, decoded without unsafe so that any bytes (a fuzzer's,
// misaligned) parse safely.
const (
	cmsgHdrLen  = unix.SizeofCmsghdr                  // 16 on 64-bit, 12 on 32-bit
	timespecLen = int(unsafe.Sizeof(unix.Timespec{})) // 16 on 64-bit, 8 on 32-bit
)

// parseCmsgs reads the control messages govrrp asks for from oob (as
// recvmsg left it) into f, ignoring others and stopping at the first
// malformed header.
func parseCmsgs(oob []byte, f *cmsgFacts) {
	*f = cmsgFacts{}
	for len(oob) >= cmsgHdrLen {
		var l int
		var level, typ int32
		if cmsgHdrLen == 16 {
			l64 := binary.NativeEndian.Uint64(oob)
			if l64 > uint64(len(oob)) {
				return
			}
			l = int(l64)
			level, typ = int32(binary.NativeEndian.Uint32(oob[8:])), int32(binary.NativeEndian.Uint32(oob[12:]))
		} else {
			l = int(binary.NativeEndian.Uint32(oob))
			level, typ = int32(binary.NativeEndian.Uint32(oob[4:])), int32(binary.NativeEndian.Uint32(oob[8:]))
		}
		if l < unix.CmsgLen(0) || l > len(oob) {
			return
		}
		data := oob[unix.CmsgLen(0):l]
		switch {
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_HOPLIMIT && len(data) >= 4:
			f.hops = uint8(binary.NativeEndian.Uint32(data))
		case level == unix.IPPROTO_IP && typ == unix.IP_TTL && len(data) >= 4:
			f.hops = uint8(binary.NativeEndian.Uint32(data))
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			f.dst = netip.AddrFrom16([16]byte(data[:16]))
		case level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPNS && len(data) >= timespecLen:
			var sec, nsec int64
			if timespecLen == 16 {
				sec, nsec = int64(binary.NativeEndian.Uint64(data)), int64(binary.NativeEndian.Uint64(data[8:]))
			} else {
				sec, nsec = int64(int32(binary.NativeEndian.Uint32(data))), int64(int32(binary.NativeEndian.Uint32(data[4:])))
			}
			f.arrival = time.Unix(sec, nsec)
		case level == unix.SOL_SOCKET && typ == unix.SO_RXQ_OVFL && len(data) >= 4:
			f.drops, f.hasDrops = binary.NativeEndian.Uint32(data), true
		}
		adv := unix.CmsgSpace(l - unix.CmsgLen(0))
		if adv > len(oob) {
			return
		}
		oob = oob[adv:]
	}
}
