package linux

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// loadIPv4 puts an IPv4 datagram carrying payload into r as recvmsg would.
func loadIPv4(r *reader, src, dst netip.Addr, ttl uint8, payload []byte) {
	h := []byte{0x45, 0xc0, 0, 0, 0, 0, 0, 0, ttl, 112, 0, 0}
	h = append(h, src.AsSlice()...)
	h = append(h, dst.AsSlice()...)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	r.n = copy(r.buf, append(h, payload...))
}

// loadIPv6 puts an IPv6 payload, its source and the hop-limit and pktinfo
// control messages into r as recvmsg would.
func loadIPv6(r *reader, src, dst netip.Addr, hops int, payload []byte) {
	r.n = copy(r.buf, payload)
	r.name.Addr = src.As16()
	oob := r.oob[:0]
	put := func(typ int32, data []byte) {
		space := unix.CmsgSpace(len(data))
		b := make([]byte, space)
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = unix.IPPROTO_IPV6, typ
		h.SetLen(unix.CmsgLen(len(data)))
		copy(b[unix.CmsgLen(0):], data)
		oob = append(oob, b...)
	}
	put(unix.IPV6_HOPLIMIT, binary.NativeEndian.AppendUint32(nil, uint32(hops)))
	d := dst.As16()
	put(unix.IPV6_PKTINFO, append(d[:], 2, 0, 0, 0))
	r.oobn = len(oob)
}

func TestReaderParse(t *testing.T) {
	src4, src6 := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("fe80::1")
	m4 := advert(vrrp.IPv4, "10.77.0.254")
	b4, _ := m4.Encode(nil, src4, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	r := newReader(vrrp.IPv4)
	loadIPv4(r, src4, vrrp.MulticastIPv4, 64, b4)
	var p Packet
	if !r.parse(&p) || p.IP.TTL != 64 || p.IP.Src != src4 || p.IP.Dst != vrrp.MulticastIPv4 || string(p.Payload) != string(b4) {
		t.Fatalf("IPv4 parse: %+v", p)
	}
	r.n = 19
	if r.parse(&p) {
		t.Fatal("short IPv4 datagram accepted")
	}

	m6 := advert(vrrp.IPv6, "fe80::51")
	b6, _ := m6.Encode(nil, src6, vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader)
	r6 := newReader(vrrp.IPv6)
	loadIPv6(r6, src6, vrrp.MulticastIPv6, 255, b6)
	if !r6.parse(&p) || p.IP.TTL != 255 || p.IP.Src != src6 || p.IP.Dst != vrrp.MulticastIPv6 || string(p.Payload) != string(b6) {
		t.Fatalf("IPv6 parse: %+v", p)
	}
	r6.oobn = 0
	if r6.parse(&p) {
		t.Fatal("IPv6 datagram without pktinfo accepted")
	}
}

// TestReceivePathAllocs: parsing a received advert and running it through
// the Demux (validation, delivery) allocates nothing. recvmsg itself runs
// on buffers the reader owns through a function bound once.
func TestReceivePathAllocs(t *testing.T) {
	src := netip.MustParseAddr("10.77.0.1")
	b, _ := advert(vrrp.IPv4, "10.77.0.254").Encode(nil, src, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	r := newReader(vrrp.IPv4)
	loadIPv4(r, src, vrrp.MulticastIPv4, 255, b)
	d := NewDemux(nil)
	delivered := 0
	d.Register(51, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")}},
		func(*vrrp.Message, vrrp.Result, vrrp.IPHeader) { delivered++ })
	var p Packet
	allocs := testing.AllocsPerRun(100, func() {
		if r.parse(&p) {
			d.Handle(&p)
		}
	})
	if allocs != 0 || delivered == 0 {
		t.Fatalf("%v allocations per advert (delivered %d)", allocs, delivered)
	}
}
