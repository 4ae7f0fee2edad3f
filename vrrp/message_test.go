package vrrp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestEncodeRefuses(t *testing.T) {
	many := make([]netip.Addr, 256)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)})
	}
	for _, tc := range []struct {
		name string
		id   string
		m    Message
		want error
	}{
		{"v3 interval not in 10ms steps", "[5798-5.2.7-a]", Message{Version: 3, Family: IPv4, Interval: 15 * time.Millisecond, Addresses: []netip.Addr{vip4}}, ErrIntervalRange},
		{"v3 interval above 40.95s", "[5798-5.2.7-a]", Message{Version: 3, Family: IPv4, Interval: 40960 * time.Millisecond, Addresses: []netip.Addr{vip4}}, ErrIntervalRange},
		{"v2 fractional interval", "[3768-5.3.7-a]", Message{Version: 2, Family: IPv4, Interval: 1500 * time.Millisecond, Addresses: []netip.Addr{vip4}}, ErrIntervalRange},
		{"v2 interval above 255s", "[3768-5.3.7-a]", Message{Version: 2, Family: IPv4, Interval: 256 * time.Second, Addresses: []netip.Addr{vip4}}, ErrIntervalRange},
		{"v2 over IPv6", "[5798-5.2.9-b]", Message{Version: 2, Family: IPv6, Interval: time.Second, Addresses: []netip.Addr{vip6}}, ErrBadFamily},
		{"mixed families", "[5798-5.2.9-b]", Message{Version: 3, Family: IPv4, Interval: time.Second, Addresses: []netip.Addr{vip4, vip6}}, ErrBadFamily},
		{"invalid address", "", Message{Version: 3, Family: IPv4, Interval: time.Second, Addresses: []netip.Addr{{}}}, ErrBadFamily},
		{"256 addresses", "[5798-5.2.5-a]", Message{Version: 3, Family: IPv4, Interval: time.Second, Addresses: many}, ErrTooManyAddresses},
		{"AH", "[IMPL-1]", Message{Version: 2, Family: IPv4, Interval: time.Second, AuthType: AuthIPsecAH, Addresses: []netip.Addr{vip4}}, ErrAuthAH},
		{"version 4", "", Message{Version: 4, Family: IPv4, Interval: time.Second}, ErrVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.m.Encode(nil, r1, MulticastIPv4, 0); err != tc.want {
				t.Fatalf("%s Encode: got %v, want %v", tc.id, err, tc.want)
			}
			if tc.want == ErrAuthAH {
				return // MarshalBinary re-encodes received adverts verbatim, AH included
			}
			if _, err := tc.m.MarshalBinary(); err != tc.want {
				t.Fatalf("%s MarshalBinary: got %v, want %v", tc.id, err, tc.want)
			}
		})
	}
}

func TestEncodeNeedsPseudoHeaderAddresses(t *testing.T) {
	m := Message{Version: 3, Family: IPv6, VRID: 1, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vipLL}}
	if _, err := m.Encode(nil, r1, MulticastIPv4, 0); err != ErrPseudoHeader {
		t.Fatalf("IPv6 message with IPv4 header: got %v", err)
	}
	// The plain IPv4 form needs no addresses at all.
	m4 := Message{Version: 3, Family: IPv4, VRID: 1, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip4}}
	if _, err := m4.Encode(nil, netip.Addr{}, netip.Addr{}, ChecksumPlain); err != nil {
		t.Fatal(err)
	}
}

// The reserved nibble is sent as 0 and ignored on receive [5798-5.2.6-a].
func TestReservedBitsIgnored(t *testing.T) {
	b := unhex(t, "31 33 96 01 00 64 42 3f 0a 4d 00 fe")
	b[4] |= 0xf0
	var m Message
	if err := m.Decode(b, IPv4); err != nil {
		t.Fatal(err)
	}
	if m.Interval != time.Second {
		t.Fatalf("interval %v: reserved bits leaked into it", m.Interval)
	}
	out, _ := m.MarshalBinary()
	if out[4]&0xf0 != 0 {
		t.Fatalf("reserved bits sent: %x", out[4])
	}
}

// Trailing bytes (keepalived's HMAC trailer) are neither decoded nor covered
// by the checksum [IMPL-9].
func TestTrailingBytesIgnored(t *testing.T) {
	b := append(unhex(t, "31 33 96 01 00 64 42 3f 0a 4d 00 fe"), 0xde, 0xad, 0xbe, 0xef)
	var m Message
	res, err := Validate(&m, b, IPHeader{Src: r1, Dst: MulticastIPv4, TTL: 255}, nil)
	if err != nil || res.Form != ChecksumPseudoHeader {
		t.Fatalf("got %v %v", res.Form, err)
	}
	if len(m.Addresses) != 1 || m.Addresses[0] != vip4 {
		t.Fatalf("addresses %v", m.Addresses)
	}
}

func TestDecodeReusesAddresses(t *testing.T) {
	two := Message{Version: 3, Family: IPv4, VRID: 1, Priority: 1, Interval: time.Second, Addresses: []netip.Addr{vip4, r1}}
	one := Message{Version: 3, Family: IPv4, VRID: 1, Priority: 1, Interval: time.Second, Addresses: []netip.Addr{r2}}
	b2, _ := two.Encode(nil, r1, MulticastIPv4, 0)
	b1, _ := one.Encode(nil, r1, MulticastIPv4, 0)
	var m Message
	if err := m.Decode(b2, IPv4); err != nil {
		t.Fatal(err)
	}
	if err := m.Decode(b1, IPv4); err != nil {
		t.Fatal(err)
	}
	if len(m.Addresses) != 1 || m.Addresses[0] != r2 {
		t.Fatalf("stale addresses after reuse: %v", m.Addresses)
	}
}

func TestPassword(t *testing.T) {
	d, err := Password("abc")
	if err != nil || !bytes.Equal(d[:], []byte{'a', 'b', 'c', 0, 0, 0, 0, 0}) {
		t.Fatalf("Password(abc) = %q, %v", d, err)
	}
	if _, err := Password("123456789"); err == nil {
		t.Fatal("a 9-byte password was accepted; keepalived would truncate it silently")
	}
	if _, err := Password(""); err == nil {
		t.Fatal("empty password accepted")
	}
}

// Every address count round-trips, both families, both versions.
func TestRoundTripCounts(t *testing.T) {
	for _, fam := range []Family{IPv4, IPv6} {
		for _, version := range []uint8{2, 3} {
			if version == 2 && fam == IPv6 {
				continue
			}
			for n := 0; n <= 255; n += 17 {
				m := Message{Version: version, Family: fam, VRID: uint8(n) | 1, Priority: 200, Interval: 3 * time.Second, Addresses: addrs(fam, n)}
				src, dst := r1, MulticastIPv4
				if fam == IPv6 {
					src, dst = ll1, MulticastIPv6
				}
				b, err := m.Encode(nil, src, dst, 0)
				if err != nil {
					t.Fatal(err)
				}
				var back Message
				if _, err := Validate(&back, b, IPHeader{Src: src, Dst: dst, TTL: 255}, nil); err != nil && err != ErrZeroCount {
					t.Fatalf("v%d %v n=%d: %v", version, fam, n, err)
				}
				again, _ := back.MarshalBinary()
				if !bytes.Equal(again, b) {
					t.Fatalf("v%d %v n=%d: re-encode differs", version, fam, n)
				}
			}
		}
	}
}

func addrs(fam Family, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		if fam == IPv4 {
			out[i] = netip.AddrFrom4([4]byte{10, 77, 1, byte(i)})
		} else {
			out[i] = netip.AddrFrom16([16]byte{0: 0xfd, 1: 0x77, 14: byte(i >> 8), 15: byte(i)})
		}
	}
	return out
}
