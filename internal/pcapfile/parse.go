package pcapfile

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// EtherTypes the parser follows.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100 // 802.1Q
	etherTypeQinQ  = 0x88a8 // 802.1ad
	etherTypeQinQ2 = 0x9100 // pre-standard QinQ
	arphrdEther    = 1
)

// parse fills the link-layer and IP fields of p from p.Data.
func (p *Packet) parse() {
	b := p.Data
	var etherType uint16
	switch p.LinkType {
	case LinkTypeEthernet:
		if len(b) < 14 {
			p.Err = ErrShortFrame
			return
		}
		p.SrcMAC = net.HardwareAddr(b[6:12:12])
		etherType, b = binary.BigEndian.Uint16(b[12:14]), b[14:]
	case LinkTypeLinuxSLL:
		// packet type, ARPHRD type, address length, 8 address bytes, protocol.
		if len(b) < 16 {
			p.Err = ErrShortFrame
			return
		}
		p.SrcMAC = sllMAC(binary.BigEndian.Uint16(b[2:4]), int(binary.BigEndian.Uint16(b[4:6])), b[6:14])
		etherType, b = binary.BigEndian.Uint16(b[14:16]), b[16:]
	case LinkTypeSLL2:
		// protocol, reserved, ifindex, ARPHRD type, packet type, address
		// length, 8 address bytes.
		if len(b) < 20 {
			p.Err = ErrShortFrame
			return
		}
		p.SrcMAC = sllMAC(binary.BigEndian.Uint16(b[8:10]), int(b[11]), b[12:20])
		etherType, b = binary.BigEndian.Uint16(b[0:2]), b[20:]
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		if len(b) == 0 {
			p.Err = ErrShortFrame
			return
		}
		switch b[0] >> 4 {
		case 4:
			etherType = etherTypeIPv4
		case 6:
			etherType = etherTypeIPv6
		default:
			return // not IP
		}
	case LinkTypeIPv4:
		etherType = etherTypeIPv4
	case LinkTypeIPv6:
		etherType = etherTypeIPv6
	default:
		return // unsupported link type: not IP as far as we can tell
	}
	// 802.1Q / 802.1ad tags: 2 bytes TCI, then the inner EtherType.
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQ2 {
		if len(b) < 4 {
			p.Err = ErrShortFrame
			return
		}
		etherType, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
	}
	switch etherType {
	case etherTypeIPv4:
		p.parseIPv4(b)
	case etherTypeIPv6:
		p.parseIPv6(b)
	}
}

// sllMAC returns the link-layer source of a Linux cooked header when it is
// an Ethernet address.
func sllMAC(hatype uint16, alen int, addr []byte) net.HardwareAddr {
	if hatype != arphrdEther || alen != 6 {
		return nil
	}
	return net.HardwareAddr(addr[:6:6])
}

func (p *Packet) parseIPv4(b []byte) {
	p.IPVersion = 4
	if len(b) < 20 {
		p.Err = ErrShortFrame
		return
	}
	if b[0]>>4 != 4 {
		p.Err = ErrIPHeader
		return
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	p.TTL, p.Protocol = b[8], b[9]
	p.Src, p.Dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	switch {
	case ihl < 20 || total < ihl:
		p.Err = ErrIPHeader
		return
	case len(b) < ihl:
		p.Err = ErrShortFrame
		return
	}
	p.Payload = b[ihl:min(total, len(b))]
	if len(b) < total {
		p.Err = ErrPayloadTruncated
		return
	}
	// More fragments, or a non-zero offset: not a whole datagram.
	if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
		p.Err = ErrFragment
	}
}

func (p *Packet) parseIPv6(b []byte) {
	p.IPVersion = 6
	if len(b) < 40 {
		p.Err = ErrShortFrame
		return
	}
	if b[0]>>4 != 6 {
		p.Err = ErrIPHeader
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	next := b[6]
	p.TTL, p.Protocol = b[7], next
	p.Src, p.Dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	// A zero payload length with a Hop-by-Hop header is a jumbogram; VRRP is
	// never one, so it is simply an empty payload here.
	payload := b[40:min(40+plen, len(b))]
	truncated := len(b) < 40+plen
	for {
		switch next {
		case 0, 43, 60, 135, 139, 140: // Hop-by-Hop, Routing, Destination, Mobility, HIP, Shim6
			if len(payload) < 8 {
				p.Protocol, p.Payload, p.Err = next, payload, extErr(truncated)
				return
			}
			l := (int(payload[1]) + 1) * 8
			if l > len(payload) {
				p.Protocol, p.Payload, p.Err = next, payload, extErr(truncated)
				return
			}
			next, payload = payload[0], payload[l:]
		case 44: // Fragment
			if len(payload) < 8 {
				p.Protocol, p.Payload, p.Err = next, payload, extErr(truncated)
				return
			}
			frag := binary.BigEndian.Uint16(payload[2:4])
			next, payload = payload[0], payload[8:]
			if frag&0xfff9 != 0 { // offset or M flag: a real fragment
				p.Protocol, p.Payload, p.Err = next, payload, ErrFragment
				return
			}
		case 51: // Authentication Header: length in 4-byte units, minus 2
			if len(payload) < 8 {
				p.Protocol, p.Payload, p.Err = next, payload, extErr(truncated)
				return
			}
			l := (int(payload[1]) + 2) * 4
			if l > len(payload) {
				p.Protocol, p.Payload, p.Err = next, payload, extErr(truncated)
				return
			}
			next, payload = payload[0], payload[l:]
		default: // upper layer, ESP (50, opaque) or No Next Header (59)
			p.Protocol, p.Payload = next, payload
			if next == 50 {
				p.Err = ErrExtensionHeader
			} else if truncated {
				p.Err = ErrPayloadTruncated
			}
			return
		}
	}
}

func extErr(truncated bool) error {
	if truncated {
		return ErrPayloadTruncated
	}
	return ErrExtensionHeader
}
