package vrrp

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	r1    = netip.MustParseAddr("10.77.0.1")
	r2    = netip.MustParseAddr("10.77.0.2")
	vip4  = netip.MustParseAddr("10.77.0.254")
	ll1   = netip.MustParseAddr("fe80::1")
	vipLL = netip.MustParseAddr("fe80::51")
	vip6  = netip.MustParseAddr("2001:db8::51")
)

// The worked examples of spec §4, byte for byte.
func TestWorkedExamples(t *testing.T) {
	v3v4 := Message{Version: 3, VRID: 51, Priority: 150, Family: IPv4, Interval: time.Second, Addresses: []netip.Addr{vip4}}
	pass, _ := Password("secret12")
	v2pass := Message{Version: 2, VRID: 51, Priority: 150, Family: IPv4, Interval: time.Second, AuthType: AuthPassword, AuthData: pass, Addresses: []netip.Addr{vip4}}
	v2none := Message{Version: 2, VRID: 51, Priority: 150, Family: IPv4, Interval: time.Second, Addresses: []netip.Addr{vip4}}
	v3v6 := Message{Version: 3, VRID: 51, Priority: 100, Family: IPv6, Interval: time.Second, Addresses: []netip.Addr{vipLL, vip6}}
	for _, tc := range []struct {
		name     string
		id       string
		m        Message
		src, dst netip.Addr
		form     ChecksumForm
		want     string
	}{
		{"A v3 IPv4 pseudo-header", "[5798-5.2.8-a]", v3v4, r1, MulticastIPv4, ChecksumPseudoHeader, "31 33 96 01 00 64 42 3f 0a 4d 00 fe"},
		{"A v3 IPv4 plain", "[9568-5.2.8-a]", v3v4, r1, MulticastIPv4, ChecksumPlain, "31 33 96 01 00 64 2d 1c 0a 4d 00 fe"},
		{"A v3 IPv4 unicast pseudo-header", "spec §2.1", v3v4, r1, r2, ChecksumPseudoHeader, "31 33 96 01 00 64 18 03 0a 4d 00 fe"},
		{"B v2 password", "[3768-5.3.8-a]", v2pass, r1, MulticastIPv4, ChecksumPseudoHeader, "21 33 96 01 01 01 cf 00 0a 4d 00 fe 73 65 63 72 65 74 31 32"},
		{"B v2 no auth", "[3768-5.3.10-a]", v2none, r1, MulticastIPv4, ChecksumPseudoHeader, "21 33 96 01 00 01 3d 7f 0a 4d 00 fe 00 00 00 00 00 00 00 00"},
		{"C v3 IPv6", "[5798-5.2.8-a]", v3v6, ll1, MulticastIPv6, ChecksumPlain, "31 33 64 02 00 64 3f 5b fe80000000000000000000000000 0051 20010db8000000000000000000000051"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.want)
			got, err := tc.m.Encode(nil, tc.src, tc.dst, tc.form)
			if err != nil {
				t.Fatalf("%s Encode: %v", tc.id, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s Encode\n got %x\nwant %x", tc.id, got, want)
			}
			var back Message
			if err := back.Decode(want, tc.m.Family); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if _, err := VerifyChecksum(want, back.Version, back.Family, tc.src, tc.dst, tc.form); err != nil {
				t.Fatalf("%s VerifyChecksum: %v", tc.id, err)
			}
		})
	}
}
