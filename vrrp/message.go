package vrrp

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Protocol constants (spec §2, §3).
const (
	IPProtocol = 112 // IPv4 protocol / IPv6 next header [5798-5.1.1.4-a]
	TTL        = 255 // TTL / hop limit sent and required [5798-5.1.1.3-a]

	TypeAdvertisement = 1 // the only message type [5798-5.2.2-a]

	PriorityOwner    = 255 // the address owner [5798-5.2.4-a]
	PriorityShutdown = 0   // a Master resigning [5798-6.4.3-g]

	headerLen   = 8
	authDataLen = 8 // v2 only, present whatever the auth type
)

// Well-known destinations [5798-5.1.1.2-a][5798-5.1.2.2-a].
var (
	MulticastIPv4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	MulticastIPv6 = netip.MustParseAddr("ff02::12")
)

// Family is the address family of the IP header that carries a message. The
// message itself does not say it, yet it decides the address size.
type Family uint8

const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) addrLen() int {
	if f == IPv6 {
		return 16
	}
	return 4
}

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "unknown"
}

// FamilyOf returns the family of a, with IPv4-mapped IPv6 counted as IPv4.
func FamilyOf(a netip.Addr) Family {
	if a.Unmap().Is4() {
		return IPv4
	}
	return IPv6
}

// Message is one VRRP advertisement, v2 or v3.
type Message struct {
	Version  uint8  // 2 or 3
	Type     uint8  // TypeAdvertisement
	VRID     uint8  // 1..255
	Priority uint8  // 0 resign, 1..254 backup, 255 owner
	Family   Family // of the carrying IP header; VRRPv2 is IPv4 only

	// Interval is VRRPv3's Max Advertise Interval (12 bits of centiseconds) or
	// VRRPv2's Adver Int (8 bits of seconds) [5798-5.2.7-a][3768-5.3.7-a].
	Interval time.Duration

	AuthType AuthType // VRRPv2 only
	AuthData [8]byte  // VRRPv2 only; kept as received so re-encoding is exact

	// Checksum as received by Decode, or as computed by Encode.
	Checksum uint16

	Addresses []netip.Addr
}

// Len returns the length of the encoded message: 8 + N·(4|16), plus the 8
// bytes of authentication data for v2.
func (m *Message) Len() int {
	n := headerLen + len(m.Addresses)*m.Family.addrLen()
	if m.Version == 2 {
		n += authDataLen
	}
	return n
}

// Decode parses b, the payload of an IP packet of family fam, into m. It
// checks version, type and length, in the order of spec §7, and reuses the
// capacity of m.Addresses, so a reused Message decodes without allocating.
// It does not verify the checksum, which needs the IP header: see
// VerifyChecksum, or Validate for the complete receive path.
func (m *Message) Decode(b []byte, fam Family) error {
	if len(b) < headerLen {
		return ErrTruncated
	}
	version, typ := b[0]>>4, b[0]&0x0f
	if version != 3 && (version != 2 || fam != IPv4) {
		return ErrVersion
	}
	if typ != TypeAdvertisement {
		return ErrType
	}
	m.Version, m.Type, m.VRID, m.Priority, m.Family = version, typ, b[1], b[2], fam
	count := int(b[3])
	need := headerLen + count*fam.addrLen()
	if version == 2 {
		need += authDataLen
	}
	if len(b) < need {
		return ErrTruncated
	}
	if version == 3 {
		m.Interval = time.Duration(binary.BigEndian.Uint16(b[4:6])&0x0fff) * 10 * time.Millisecond
		m.AuthType, m.AuthData = AuthNone, [8]byte{}
	} else {
		m.AuthType = AuthType(b[4])
		m.Interval = time.Duration(b[5]) * time.Second
		copy(m.AuthData[:], b[need-authDataLen:need])
	}
	m.Checksum = binary.BigEndian.Uint16(b[6:8])
	m.Addresses = m.Addresses[:0]
	p := b[headerLen:]
	for range count {
		if fam == IPv4 {
			m.Addresses = append(m.Addresses, netip.AddrFrom4([4]byte(p[:4])))
			p = p[4:]
		} else {
			m.Addresses = append(m.Addresses, netip.AddrFrom16([16]byte(p[:16])))
			p = p[16:]
		}
	}
	return nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. The family cannot be
// read from the message, so it comes from m.Family (IPv4 when unset).
func (m *Message) UnmarshalBinary(b []byte) error {
	fam := m.Family
	if fam != IPv6 {
		fam = IPv4
	}
	return m.Decode(b, fam)
}

// MarshalBinary implements encoding.BinaryMarshaler. It writes m.Checksum as
// it is, so a decoded message re-encodes to the same bytes; use Encode to
// compute the checksum for sending.
func (m *Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.Len()))
}

// AppendBinary implements encoding.BinaryAppender, with m.Checksum as it is.
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	return m.appendTo(b), nil
}

// Encode appends m to b with the checksum computed for an IP header from src
// to dst, and stores the checksum in m.Checksum. form picks the VRRPv3 IPv4
// checksum (spec §4); VRRPv2 never uses a pseudo-header and VRRPv3 over IPv6
// always does, whatever form says. With enough capacity in b it does not
// allocate.
func (m *Message) Encode(b []byte, src, dst netip.Addr, form ChecksumForm) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	if m.Version == 2 && m.AuthType > AuthPassword {
		if m.AuthType == AuthIPsecAH {
			return b, ErrAuthAH
		}
		return b, ErrAuthTypeInvalid
	}
	start := len(b)
	m.Checksum = 0
	b = m.appendTo(b)
	msg := b[start:]
	var s uint32
	switch effectiveForm(m.Version, m.Family, form) {
	case ChecksumPseudoHeader:
		if !src.IsValid() || !dst.IsValid() || FamilyOf(src) != m.Family || FamilyOf(dst) != m.Family {
			return b[:start], ErrPseudoHeader
		}
		s = pseudoHeaderSum(src, dst, len(msg))
	}
	m.Checksum = ^fold(sum(msg, s))
	binary.BigEndian.PutUint16(msg[6:8], m.Checksum)
	return b, nil
}

// check reports whether m can be encoded at all. MarshalBinary re-encodes
// whatever Decode accepted (an AH auth type included); Encode, which builds
// adverts to send, is stricter.
func (m *Message) check() error {
	switch m.Version {
	case 3:
		if m.Family != IPv4 && m.Family != IPv6 {
			return ErrBadFamily
		}
		cs := m.Interval / (10 * time.Millisecond)
		if m.Interval%(10*time.Millisecond) != 0 || cs < 0 || cs > 0x0fff {
			return ErrIntervalRange
		}
	case 2:
		if m.Family != IPv4 {
			return ErrBadFamily
		}
		s := m.Interval / time.Second
		if m.Interval%time.Second != 0 || s < 0 || s > 255 {
			return ErrIntervalRange
		}
	default:
		return ErrVersion
	}
	if len(m.Addresses) > 255 {
		return ErrTooManyAddresses
	}
	for _, a := range m.Addresses {
		if !a.IsValid() || (m.Family == IPv4) != a.Is4() {
			return ErrBadFamily
		}
	}
	return nil
}

func (m *Message) appendTo(b []byte) []byte {
	typ := m.Type
	if typ == 0 {
		typ = TypeAdvertisement
	}
	b = append(b, m.Version<<4|typ&0x0f, m.VRID, m.Priority, uint8(len(m.Addresses)))
	if m.Version == 3 {
		b = binary.BigEndian.AppendUint16(b, uint16(m.Interval/(10*time.Millisecond))) // Rsvd 0 [5798-5.2.6-a]
	} else {
		b = append(b, uint8(m.AuthType), uint8(m.Interval/time.Second))
	}
	b = binary.BigEndian.AppendUint16(b, m.Checksum)
	for _, a := range m.Addresses {
		b = appendAddr(b, a)
	}
	if m.Version == 2 {
		b = append(b, m.AuthData[:]...)
	}
	return b
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}
