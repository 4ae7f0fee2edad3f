package linux

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// datagram is one datagram as recvmmsg leaves it in a ring slot: the data,
// the source sockaddr and the control messages.
type datagram struct {
	b    []byte
	name unix.RawSockaddrInet6
	oob  []byte
}

// loadDatagram builds what a main socket of family fam receives for an
// advert (payload) from src to dst with TTL/hop limit hops: an IPv4 raw
// socket gets the IP header, an IPv6 one the payload with the hop limit
// and destination as control messages; both get the arrival timestamp and
// the drop count.
func loadDatagram(fam vrrp.Family, src, dst netip.Addr, hops uint8, payload []byte, at time.Time) *datagram {
	d := &datagram{}
	if fam == vrrp.IPv6 {
		d.b = append([]byte(nil), payload...)
		d.name.Addr = src.As16()
		d.oob = kernelOOB(at, int(hops), dst, 0)
		return d
	}
	h := []byte{0x45, 0xc0, 0, 0, 0, 0, 0, 0, hops, 112, 0, 0}
	h = append(h, src.AsSlice()...)
	h = append(h, dst.AsSlice()...)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(payload)))
	d.b = append(h, payload...)
	d.oob = cmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, timespecBytes(at))
	d.oob = cmsg(d.oob, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, binary.NativeEndian.AppendUint32(nil, 0))
	return d
}

// checker runs the receive checks the event loop runs on a Packet, against
// one configured virtual router (VRID 51), with the Message and the lookup
// built once as the loop does.
type checker struct {
	cfg    *vrrp.Config
	msg    vrrp.Message
	lookup vrrp.Lookup
}

func newChecker(cfg *vrrp.Config) *checker {
	v := &checker{cfg: cfg}
	v.msg.Addresses = make([]netip.Addr, 0, 16)
	v.lookup = v.find
	return v
}

func (v *checker) find(vrid uint8) *vrrp.Config {
	if vrid == 51 {
		return v.cfg
	}
	return nil
}

func (v *checker) check(p *Packet) error {
	_, err := vrrp.Validate(&v.msg, p.Payload, p.IP, v.lookup)
	return err
}

// TestParseDatagram: the facts the validator needs come from the IPv4
// header, or from the IPv6 sockaddr and control messages, with the kernel's
// arrival time; a datagram without them is skipped.
func TestParseDatagram(t *testing.T) {
	at := time.Unix(1_700_000_000, 123456789)
	src4, src6 := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("fe80::1")
	m4 := advert(vrrp.IPv4, "10.77.0.254")
	b4, _ := m4.Encode(nil, src4, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	d := loadDatagram(vrrp.IPv4, src4, vrrp.MulticastIPv4, 64, b4, at)
	var p Packet
	var f cmsgFacts
	if !parseDatagram(vrrp.IPv4, d.b, &d.name, d.oob, &p, &f) || p.IP.TTL != 64 || p.IP.Src != src4 || p.IP.Dst != vrrp.MulticastIPv4 ||
		string(p.Payload) != string(b4) || !p.Arrival.Equal(at) {
		t.Fatalf("IPv4 parse: %+v", p)
	}
	if parseDatagram(vrrp.IPv4, d.b[:19], &d.name, d.oob, &p, &f) {
		t.Fatal("short IPv4 datagram accepted")
	}

	m6 := advert(vrrp.IPv6, "fe80::51")
	b6, _ := m6.Encode(nil, src6, vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader)
	d6 := loadDatagram(vrrp.IPv6, src6, vrrp.MulticastIPv6, 255, b6, at)
	if !parseDatagram(vrrp.IPv6, d6.b, &d6.name, d6.oob, &p, &f) || p.IP.TTL != 255 || p.IP.Src != src6 || p.IP.Dst != vrrp.MulticastIPv6 ||
		string(p.Payload) != string(b6) || !p.Arrival.Equal(at) {
		t.Fatalf("IPv6 parse: %+v", p)
	}
	if parseDatagram(vrrp.IPv6, d6.b, &d6.name, nil, &p, &f) {
		t.Fatal("IPv6 datagram without pktinfo accepted")
	}
}

// TestReceivePathAllocs: parsing a received advert (data and control
// messages) and running every receive check on it, as the event loop does
// after ReadBatch, allocates nothing. ReadBatch itself: TestBatchAllocs.
func TestReceivePathAllocs(t *testing.T) {
	at := time.Now()
	for _, c := range []struct {
		fam      vrrp.Family
		src, vip string
	}{{vrrp.IPv4, "10.77.0.1", "10.77.0.254"}, {vrrp.IPv6, "fe80::1", "fe80::51"}} {
		t.Run(c.fam.String(), func(t *testing.T) {
			src, dst := netip.MustParseAddr(c.src), groupOf(c.fam)
			m := advert(c.fam, c.vip)
			b, _ := m.Encode(nil, src, dst, vrrp.ChecksumPseudoHeader)
			d := loadDatagram(c.fam, src, dst, 255, b, at)
			v := newChecker(&vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: m.Addresses})
			var p Packet
			var f cmsgFacts
			valid := 0
			allocs := testing.AllocsPerRun(100, func() {
				if parseDatagram(c.fam, d.b, &d.name, d.oob, &p, &f) && v.check(&p) == nil {
					valid++
				}
			})
			if allocs != 0 || valid == 0 {
				t.Fatalf("%v allocations per advert (%d passed the checks)", allocs, valid)
			}
		})
	}
}
