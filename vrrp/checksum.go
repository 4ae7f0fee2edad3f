package vrrp

import (
	"encoding/binary"
	"net/netip"
)

// ChecksumForm says whether a VRRPv3 checksum over IPv4 covers the IPv4
// pseudo-header (spec §4).
//
// RFC 5798 cited the IPv6 pseudo-header rule without restricting it to IPv6;
// keepalived and FRR read that as "IPv4 gets a pseudo-header too" and do so by
// default. RFC 9568 [9568-5.2.8-a] says IPv4 has none, as Cisco and Juniper
// always did. VRRPv2 never has one [3768-5.3.8-a]; VRRPv3 over IPv6 always
// does [5798-5.2.8-a].
type ChecksumForm uint8

const (
	// ChecksumPseudoHeader: checksum over the pseudo-header and the message.
	// The zero value: the default send form, as keepalived and FRR expect [IMPL-4].
	ChecksumPseudoHeader ChecksumForm = iota
	// ChecksumPlain: checksum over the message only.
	ChecksumPlain
)

func (f ChecksumForm) String() string {
	if f == ChecksumPlain {
		return "plain"
	}
	return "pseudo-header"
}

// effectiveForm is the form a message of this version and family really uses.
func effectiveForm(version uint8, fam Family, want ChecksumForm) ChecksumForm {
	switch {
	case version == 2:
		return ChecksumPlain
	case fam == IPv6:
		return ChecksumPseudoHeader
	}
	return want
}

// VerifyChecksum checks the checksum of msg, a VRRP message of the given
// version and family that arrived from src to dst, and reports which form
// matched. msg is cut to its computed length (from the address count): bytes
// after it are not covered [IMPL-9]. For VRRPv3 over IPv4 it accepts, in this
// order: prefer (ChecksumPseudoHeader or ChecksumPlain), the other form, and
// the pseudo-header built with 224.0.0.18 as destination (FRR and keepalived
// before 1.3.6 do that for unicast too, spec §2.1) [IMPL-4].
func VerifyChecksum(msg []byte, version uint8, fam Family, src, dst netip.Addr, prefer ChecksumForm) (ChecksumForm, error) {
	s := sum(msg, 0)
	if version == 2 {
		if fold(s) == 0xffff {
			return ChecksumPlain, nil
		}
		return ChecksumPlain, ErrChecksum
	}
	if !src.IsValid() || !dst.IsValid() {
		return ChecksumPseudoHeader, ErrChecksum
	}
	withPH := fold(s+pseudoHeaderSum(src, dst, len(msg))) == 0xffff
	if fam == IPv6 {
		if withPH {
			return ChecksumPseudoHeader, nil
		}
		return ChecksumPseudoHeader, ErrChecksum
	}
	plain := fold(s) == 0xffff
	switch {
	case prefer == ChecksumPlain && plain:
		return ChecksumPlain, nil
	case withPH:
		return ChecksumPseudoHeader, nil
	case plain:
		return ChecksumPlain, nil
	case dst != MulticastIPv4 && fold(s+pseudoHeaderSum(src, MulticastIPv4, len(msg))) == 0xffff:
		return ChecksumPseudoHeader, nil
	}
	return prefer, ErrChecksum
}

// pseudoHeaderSum is the RFC 1071 partial sum of the IPv4 pseudo-header
// (src, dst, zero, protocol, 16-bit length) or the IPv6 one (src, dst, 32-bit
// length, zeros, next header). Both are sums of 16-bit words, so the layout
// differences do not change the result.
func pseudoHeaderSum(src, dst netip.Addr, length int) uint32 {
	var s uint32
	if FamilyOf(src) == IPv4 {
		a, b := src.Unmap().As4(), dst.Unmap().As4()
		s = sum(a[:], sum(b[:], 0))
	} else {
		a, b := src.As16(), dst.As16()
		s = sum(a[:], sum(b[:], 0))
	}
	return s + IPProtocol + uint32(length)
}

// sum adds b as big-endian 16-bit words to s, padding an odd last byte with
// zero (RFC 1071). VRRP messages are at most a few KiB, far from overflowing.
func sum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds the carries of a one's-complement sum into 16 bits.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
