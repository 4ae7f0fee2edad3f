package pcapfile

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
)

// Frame describes an Ethernet frame carrying one IP datagram, for writing
// test captures.
type Frame struct {
	SrcMAC   net.HardwareAddr // zero MAC when nil
	DstMAC   net.HardwareAddr // derived from Dst when nil (multicast mapping or broadcast)
	Src, Dst netip.Addr       // same family
	TTL      uint8            // TTL or hop limit
	TOS      uint8            // TOS or traffic class
	Protocol uint8
	Payload  []byte
}

// Ethernet returns the frame with an Ethernet II header and an IPv4 header
// (with a correct header checksum) or an IPv6 header.
func (f Frame) Ethernet() ([]byte, error) {
	if !f.Src.IsValid() || !f.Dst.IsValid() || f.Src.Is4() != f.Dst.Is4() {
		return nil, errors.New("pcapfile: frame needs a source and destination of one family")
	}
	dst := f.DstMAC
	if dst == nil {
		dst = multicastMAC(f.Dst)
	}
	src := f.SrcMAC
	if src == nil {
		src = make(net.HardwareAddr, 6)
	}
	if len(src) != 6 || len(dst) != 6 {
		return nil, errors.New("pcapfile: MAC addresses must be 6 bytes")
	}
	b := append(append(make([]byte, 0, 14+40+len(f.Payload)), dst...), src...)
	if f.Src.Is4() {
		if 20+len(f.Payload) > 0xffff {
			return nil, errors.New("pcapfile: payload too large for IPv4")
		}
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv4)
		h := make([]byte, 20)
		h[0], h[1] = 0x45, f.TOS
		binary.BigEndian.PutUint16(h[2:4], uint16(20+len(f.Payload)))
		h[8], h[9] = f.TTL, f.Protocol
		s, d := f.Src.As4(), f.Dst.As4()
		copy(h[12:16], s[:])
		copy(h[16:20], d[:])
		binary.BigEndian.PutUint16(h[10:12], IPv4HeaderChecksum(h))
		b = append(b, h...)
	} else {
		if len(f.Payload) > 0xffff {
			return nil, errors.New("pcapfile: payload too large for IPv6")
		}
		b = binary.BigEndian.AppendUint16(b, etherTypeIPv6)
		h := make([]byte, 40)
		binary.BigEndian.PutUint32(h[0:4], 6<<28|uint32(f.TOS)<<20)
		binary.BigEndian.PutUint16(h[4:6], uint16(len(f.Payload)))
		h[6], h[7] = f.Protocol, f.TTL
		s, d := f.Src.As16(), f.Dst.As16()
		copy(h[8:24], s[:])
		copy(h[24:40], d[:])
		b = append(b, h...)
	}
	return append(b, f.Payload...), nil
}

// multicastMAC maps a multicast group to its Ethernet address (RFC 1112 §6.4,
// RFC 2464 §7); unicast destinations get the broadcast address, which is
// enough for a capture file.
func multicastMAC(a netip.Addr) net.HardwareAddr {
	switch {
	case a.Is4() && a.IsMulticast():
		v := a.As4()
		return net.HardwareAddr{0x01, 0x00, 0x5e, v[1] & 0x7f, v[2], v[3]}
	case a.Is6() && a.IsMulticast():
		v := a.As16()
		return net.HardwareAddr{0x33, 0x33, v[12], v[13], v[14], v[15]}
	}
	return net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}

// IPv4HeaderChecksum is the RFC 791 header checksum of h: with the checksum
// field zeroed it is the value to store, and over a header that carries a
// correct checksum it is 0.
func IPv4HeaderChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
