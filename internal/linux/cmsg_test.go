package linux

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// cmsg appends one control message as the kernel lays it out.
func cmsg(oob []byte, level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return append(oob, b...)
}

func timespecBytes(t time.Time) []byte {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
}

// kernelOOB is what the IPv6 main socket receives: hop limit, pktinfo,
// timestamp and drop count.
func kernelOOB(at time.Time, hops int, dst netip.Addr, drops uint32) []byte {
	var oob []byte
	oob = cmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, binary.NativeEndian.AppendUint32(nil, uint32(hops)))
	d := dst.As16()
	oob = cmsg(oob, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, append(d[:], 2, 0, 0, 0))
	oob = cmsg(oob, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecBytes(at))
	return cmsg(oob, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, binary.NativeEndian.AppendUint32(nil, drops))
}

func TestParseCmsgs(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
	var f cmsgFacts
	parseCmsgs(kernelOOB(at, 254, vrrp.MulticastIPv6, 7), &f)
	if !f.arrival.Equal(at) || f.hops != 254 || f.dst != vrrp.MulticastIPv6 || !f.hasDrops || f.drops != 7 {
		t.Fatalf("parsed %+v", f)
	}
	parseCmsgs(nil, &f)
	if !f.arrival.IsZero() || f.dst.IsValid() || f.hasDrops {
		t.Fatalf("empty control: %+v", f)
	}
	// A timestamp alone (the IPv4 main socket); a truncated one is ignored.
	oob := cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecBytes(at))
	parseCmsgs(oob, &f)
	if !f.arrival.Equal(at) {
		t.Fatalf("timestamp: %+v", f)
	}
	parseCmsgs(oob[:len(oob)-1], &f)
	if !f.arrival.IsZero() {
		t.Fatalf("truncated timestamp parsed: %+v", f)
	}
}

// FuzzParseDatagram: whatever the kernel (or an attacker, through it)
// hands over, parsing never panics and a Payload is always inside the
// datagram. Seeds: testdata/fuzz/FuzzParseDatagram and kernel layouts.
func FuzzParseDatagram(f *testing.F) {
	at := time.Unix(1_800_000_000, 42)
	b6, _ := advert(vrrp.IPv6, "fe80::51").Encode(nil, netip.MustParseAddr("fe80::1"), vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader)
	f.Add(b6, kernelOOB(at, 255, vrrp.MulticastIPv6, 0), true)
	f.Add([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 255, 112, 0, 0, 10, 77, 0, 1, 224, 0, 0, 18, 0x31, 51, 100, 1, 0, 100, 0, 0},
		cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecBytes(at)), false)
	f.Add([]byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, b, oob []byte, v6 bool) {
		fam := vrrp.IPv4
		if v6 {
			fam = vrrp.IPv6
		}
		var p Packet
		var facts cmsgFacts
		var name unix.RawSockaddrInet6
		if !parseDatagram(fam, b, &name, oob, &p, &facts) {
			return
		}
		if len(p.Payload) > 0 && !bytes.Contains(b, p.Payload) {
			t.Fatalf("payload % x not from the datagram % x", p.Payload, b)
		}
		if v6 && !p.IP.Dst.IsValid() {
			t.Fatal("IPv6 datagram accepted without a destination")
		}
	})
}
