package vrrp

import (
	"fmt"
	"testing"
	"time"
)

// benchAdvert returns an encoded advert with n addresses and the receiving
// side's header facts and configuration.
func benchAdvert(b testing.TB, version uint8, fam Family, n int) ([]byte, IPHeader, Lookup) {
	b.Helper()
	src, dst := r1, MulticastIPv4
	if fam == IPv6 {
		src, dst = ll1, MulticastIPv6
	}
	a := addrs(fam, n)
	if fam == IPv6 {
		a[0] = vipLL
	}
	m := Message{Version: version, Family: fam, VRID: 51, Priority: 150, Interval: time.Second, Addresses: a}
	buf, err := m.Encode(nil, src, dst, ChecksumPseudoHeader)
	if err != nil {
		b.Fatal(err)
	}
	cfg := &Config{Version: version, Priority: 100, Interval: time.Second, Addresses: a}
	return buf, IPHeader{Src: src, Dst: dst, TTL: 255}, func(vrid uint8) *Config {
		if vrid == 51 {
			return cfg
		}
		return nil
	}
}

type benchCase struct {
	version uint8
	fam     Family
	n       int
}

var benchCases = []benchCase{{3, IPv4, 1}, {3, IPv4, 16}, {3, IPv6, 1}, {3, IPv6, 16}, {2, IPv4, 1}, {2, IPv4, 16}}

// The receive path of one advert: decode and every receive check, with a
// reused Message. Must stay at 0 allocs/op.
func BenchmarkDecodeValidate(b *testing.B) {
	for _, c := range benchCases {
		b.Run(fmt.Sprintf("v%d-%v-%daddr", c.version, c.fam, c.n), func(b *testing.B) {
			buf, ip, lookup := benchAdvert(b, c.version, c.fam, c.n)
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := Validate(&m, buf, ip, lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The send path of one advert into a reused buffer: 0 allocs/op.
func BenchmarkEncode(b *testing.B) {
	for _, c := range benchCases {
		b.Run(fmt.Sprintf("v%d-%v-%daddr", c.version, c.fam, c.n), func(b *testing.B) {
			_, ip, _ := benchAdvert(b, c.version, c.fam, c.n)
			a := addrs(c.fam, c.n)
			m := Message{Version: c.version, Family: c.fam, VRID: 51, Priority: 150, Interval: time.Second, Addresses: a}
			buf := make([]byte, 0, m.Len())
			b.ReportAllocs()
			b.SetBytes(int64(m.Len()))
			for b.Loop() {
				var err error
				if buf, err = m.Encode(buf[:0], ip.Src, ip.Dst, ChecksumPseudoHeader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The zero-allocation promise is a test too, so a regression fails `make test`
// and not only a benchmark someone has to read.
func TestHotPathAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, c := range benchCases {
		buf, ip, lookup := benchAdvert(t, c.version, c.fam, c.n)
		var m Message
		if n := testing.AllocsPerRun(100, func() { _, _ = Validate(&m, buf, ip, lookup) }); n != 0 {
			t.Errorf("Validate v%d %v %d addrs: %v allocs/op, want 0", c.version, c.fam, c.n, n)
		}
		out := make([]byte, 0, 8192)
		msg := Message{Version: c.version, Family: c.fam, VRID: 51, Priority: 150, Interval: time.Second, Addresses: addrs(c.fam, c.n)}
		if n := testing.AllocsPerRun(100, func() { out, _ = msg.Encode(out[:0], ip.Src, ip.Dst, 0) }); n != 0 {
			t.Errorf("Encode v%d %v %d addrs: %v allocs/op, want 0", c.version, c.fam, c.n, n)
		}
	}
}
