package vrrp

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// rxCase builds one advert as a peer would send it and the receiving router's
// configuration; each table case mutates exactly one thing so the check under
// test is the only one that can fail.
type rxCase struct {
	m    Message
	form ChecksumForm
	ip   IPHeader
	cfg  Config
	// corrupt mutates the encoded payload after the checksum is computed.
	corrupt func(b []byte) []byte
	noCfg   bool // validate without local configuration
}

func baseV3v4() rxCase {
	return rxCase{
		m:   Message{Version: 3, VRID: 51, Priority: 150, Family: IPv4, Interval: time.Second, Addresses: []netip.Addr{vip4}},
		ip:  IPHeader{Src: r1, Dst: MulticastIPv4, TTL: 255},
		cfg: Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip4}, Local: r2},
	}
}

func baseV2() rxCase {
	pw, _ := Password("secret12")
	return rxCase{
		m:   Message{Version: 2, VRID: 51, Priority: 150, Family: IPv4, Interval: time.Second, AuthType: AuthPassword, AuthData: pw, Addresses: []netip.Addr{vip4}},
		ip:  IPHeader{Src: r1, Dst: MulticastIPv4, TTL: 255},
		cfg: Config{Version: 2, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip4}, AuthType: AuthPassword, AuthData: pw, Local: r2},
	}
}

// baseCompat: a VRRPv2 advert (keepalived's default, no auth) reaching a v3
// router in the v2/v3 interoperation mode [5798-8.4.2-b].
func baseCompat() rxCase {
	c := baseV2()
	c.m.AuthType, c.m.AuthData = AuthNone, [8]byte{}
	c.cfg = Config{Version: 3, V2Compat: true, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip4}, Local: r2}
	return c
}

func baseV3v6() rxCase {
	return rxCase{
		m:   Message{Version: 3, VRID: 51, Priority: 150, Family: IPv6, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{vipLL, vip6}},
		ip:  IPHeader{Src: ll1, Dst: MulticastIPv6, TTL: 255},
		cfg: Config{Version: 3, Priority: 100, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{vipLL, vip6}, Local: netip.MustParseAddr("fe80::2")},
	}
}

func (c rxCase) run(t *testing.T) (Result, error) {
	t.Helper()
	b, err := c.m.Encode(nil, c.ip.Src, c.ip.Dst, c.form)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if c.corrupt != nil {
		b = c.corrupt(b)
	}
	var lookup Lookup
	if !c.noCfg {
		cfg := c.cfg
		lookup = func(vrid uint8) *Config {
			if vrid == 51 {
				return &cfg
			}
			return nil
		}
	}
	var got Message
	return Validate(&got, b, c.ip, lookup)
}

// Every receive check of spec §7, each failing for exactly its reason.
func TestValidateChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		c    func() rxCase
		want error
	}{
		{"v3 valid", "", baseV3v4, nil},
		{"v2 valid", "", baseV2, nil},
		{"v3 IPv6 valid", "", baseV3v6, nil},
		{"empty payload", "[5798-7.1-c]", func() rxCase {
			c := baseV3v4()
			c.corrupt = func(b []byte) []byte { return b[:7] }
			return c
		}, ErrTruncated},
		{"TTL 254", "[5798-7.1-a]", func() rxCase { c := baseV3v4(); c.ip.TTL = 254; return c }, ErrTTL},
		{"hop limit 1", "[5798-5.1.2.3-b]", func() rxCase { c := baseV3v6(); c.ip.TTL = 1; return c }, ErrTTL},
		{"v2 TTL 64", "[3768-7.1-a]", func() rxCase { c := baseV2(); c.ip.TTL = 64; return c }, ErrTTL},
		{"TTL checked before version", "[5798-7.1-a]", func() rxCase {
			c := baseV3v4()
			c.ip.TTL = 1
			c.corrupt = func(b []byte) []byte { b[0] = 0x41; return b }
			return c
		}, ErrTTL},
		{"version 4", "[5798-7.1-b]", func() rxCase {
			c := baseV3v4()
			c.corrupt = func(b []byte) []byte { b[0] = 0x41; return b }
			return c
		}, ErrVersion},
		{"v2 over IPv6", "[5798-7.1-b]", func() rxCase {
			c := baseV3v6()
			c.corrupt = func(b []byte) []byte { b[0] = 0x21; return b }
			return c
		}, ErrVersion},
		{"v2 advert for a v3 router", "[5798-7.1-b]", func() rxCase { c := baseV2(); c.cfg.Version = 3; return c }, ErrVersion},
		{"v2 advert for a v3 router in interop mode", "[5798-8.4.2-b]", baseCompat, nil},
		{"v2 interop: v2 auth still checked", "[5798-8.4.2-b][3768-7.1-f]", func() rxCase {
			c := baseCompat()
			c.m.AuthType = AuthPassword
			return c
		}, ErrAuthTypeMismatch},
		{"v3 advert for a v2 router is never accepted", "[5798-7.1-b]", func() rxCase {
			c := baseV3v4()
			c.cfg.Version, c.cfg.V2Compat = 2, true
			return c
		}, ErrVersion},
		{"type 2", "[9568-7.1-b]", func() rxCase {
			c := baseV3v4()
			c.corrupt = func(b []byte) []byte { b[0] = 0x32; return b }
			return c
		}, ErrType},
		{"v2 type 0", "[3768-5.3.2-a]", func() rxCase {
			c := baseV2()
			c.corrupt = func(b []byte) []byte { b[0] = 0x20; return b }
			return c
		}, ErrType},
		{"count beyond payload", "[5798-7.1-c]", func() rxCase {
			c := baseV3v4()
			c.corrupt = func(b []byte) []byte { b[3] = 2; return b }
			return c
		}, ErrTruncated},
		{"v2 missing auth data", "[3768-7.1-c]", func() rxCase {
			c := baseV2()
			c.corrupt = func(b []byte) []byte { return b[:len(b)-1] }
			return c
		}, ErrTruncated},
		{"checksum off by one", "[5798-7.1-d]", func() rxCase {
			c := baseV3v4()
			c.corrupt = func(b []byte) []byte { b[7]++; return b }
			return c
		}, ErrChecksum},
		{"v2 checksum", "[3768-7.1-d]", func() rxCase {
			c := baseV2()
			c.corrupt = func(b []byte) []byte { b[len(b)-1] ^= 1; return b }
			return c
		}, ErrChecksum},
		{"IPv6 without pseudo-header", "[5798-5.2.8-a]", func() rxCase {
			c := baseV3v6()
			c.corrupt = func(b []byte) []byte {
				var m Message
				_ = m.Decode(b, IPv6)
				// Recompute as if no pseudo-header were used.
				b[6], b[7] = 0, 0
				s := ^fold(sum(b, 0))
				b[6], b[7] = byte(s>>8), byte(s)
				return b
			}
			return c
		}, ErrChecksum},
		{"IPv6 pseudo-header to another destination", "[5798-5.2.8-a]", func() rxCase {
			c := baseV3v6()
			c.corrupt = func(b []byte) []byte {
				var m Message
				_ = m.Decode(b, IPv6)
				out, _ := m.Encode(nil, ll1, netip.MustParseAddr("ff02::1"), 0)
				return out
			}
			return c
		}, ErrChecksum},
		{"VRID not configured", "[5798-7.1-e]", func() rxCase { c := baseV3v4(); c.m.VRID = 52; return c }, ErrVRIDNotConfigured},
		{"v2 VRID not configured", "[3768-7.1-e]", func() rxCase { c := baseV2(); c.m.VRID = 1; return c }, ErrVRIDNotConfigured},
		{"own advert", "[IMPL-6]", func() rxCase { c := baseV3v4(); c.ip.Src = r2; return c }, ErrOwnAdvert},
		{"v2 owner discards", "[3768-7.1-e]", func() rxCase { c := baseV2(); c.cfg.Priority = 255; return c }, ErrOwnerConflict},
		{"v2 auth type mismatch", "[3768-7.1-f]", func() rxCase { c := baseV2(); c.m.AuthType, c.m.AuthData = AuthNone, [8]byte{}; return c }, ErrAuthTypeMismatch},
		{"v2 AH advert", "[IMPL-1]", func() rxCase {
			c := baseV2()
			c.corrupt = func(b []byte) []byte { return reseal(b, func(b []byte) { b[4] = 2 }) }
			return c
		}, ErrAuthTypeMismatch},
		{"v2 auth type 7", "[3768-5.3.6-a]", func() rxCase {
			c := baseV2()
			c.corrupt = func(b []byte) []byte { return reseal(b, func(b []byte) { b[4] = 7 }) }
			return c
		}, ErrAuthTypeInvalid},
		{"v2 auth type 7 without config", "[3768-5.3.6-a]", func() rxCase {
			c := baseV2()
			c.noCfg = true
			c.corrupt = func(b []byte) []byte { return reseal(b, func(b []byte) { b[4] = 7 }) }
			return c
		}, ErrAuthTypeInvalid},
		{"v2 wrong password", "[3768-7.1-f]", func() rxCase { c := baseV2(); c.m.AuthData[7] = 'X'; return c }, ErrAuthFailure},
		{"v3 zero count strict", "[E8299]", func() rxCase {
			c := baseV3v4()
			c.m.Addresses = nil
			c.cfg.Strict = true
			return c
		}, ErrZeroCount},
		{"v3 zero interval", "[E8301]", func() rxCase { c := baseV3v4(); c.m.Interval = 0; return c }, ErrZeroInterval},
		{"v3 zero interval without config", "[E8301]", func() rxCase { c := baseV3v4(); c.m.Interval = 0; c.noCfg = true; return c }, ErrZeroInterval},
		{"IPv6 first not link-local strict", "[E8300]", func() rxCase {
			c := baseV3v6()
			c.m.Addresses = []netip.Addr{vip6, vipLL}
			c.cfg.Strict = true
			return c
		}, ErrFirstNotLinkLocal},
		{"v2 address list strict", "[3768-7.1-h]", func() rxCase {
			c := baseV2()
			c.m.Addresses = []netip.Addr{vip4, r1}
			c.cfg.Strict = true
			return c
		}, ErrAddressList},
		{"v2 interval mismatch", "[3768-7.1-i]", func() rxCase { c := baseV2(); c.m.Interval = 2 * time.Second; return c }, ErrIntervalMismatch},
		{"unicast from stranger", "spec §2.1", func() rxCase {
			c := baseV3v4()
			c.cfg.Peers = []netip.Addr{netip.MustParseAddr("10.77.0.9")}
			c.ip.Dst = r2
			return c
		}, ErrNotPeer},
		{"unicast router gets multicast", "spec §2.1", func() rxCase {
			c := baseV3v4()
			c.cfg.Peers = []netip.Addr{r1}
			return c
		}, ErrDestination},
		{"multicast router gets unicast", "spec §2.1", func() rxCase { c := baseV3v4(); c.ip.Dst = r2; return c }, ErrDestination},
		{"unicast skips TTL check", "spec §2.1", func() rxCase {
			c := baseV3v4()
			c.cfg.Peers = []netip.Addr{r1}
			c.ip.Dst, c.ip.TTL = r2, 62
			return c
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c().run(t)
			if err != tc.want {
				t.Fatalf("%s: got %v, want %v", tc.id, err, tc.want)
			}
		})
	}
}

// reseal applies edit to an encoded v2 message and fixes its checksum, so a
// field can be set to a value Encode refuses to write.
func reseal(b []byte, edit func([]byte)) []byte {
	edit(b)
	b[6], b[7] = 0, 0
	s := ^fold(sum(b, 0))
	b[6], b[7] = byte(s>>8), byte(s)
	return b
}

// The checks the spec says to report but not act on keep the advert and say
// why in Result.Warnings.
func TestValidateWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		c    func() rxCase
		want error
	}{
		{"v3 owner hears an advert", "[E8298]", func() rxCase { c := baseV3v4(); c.cfg.Priority = 255; return c }, ErrOwnerConflict},
		{"v3 zero count", "[E8299][IMPL-8]", func() rxCase { c := baseV3v4(); c.m.Addresses, c.cfg.Addresses = nil, nil; return c }, ErrZeroCount},
		{"IPv6 first not link-local", "[E8300][IMPL-8]", func() rxCase {
			c := baseV3v6()
			c.m.Addresses = []netip.Addr{vip6}
			c.cfg.Addresses = []netip.Addr{vip6}
			return c
		}, ErrFirstNotLinkLocal},
		{"v3 address list", "[5798-7.1-h]", func() rxCase { c := baseV3v4(); c.m.Addresses = []netip.Addr{r1}; return c }, ErrAddressList},
		{"v2 address list", "[IMPL-10]", func() rxCase { c := baseV2(); c.m.Addresses = []netip.Addr{vip4, r1}; return c }, ErrAddressList},
		{"v3 interval mismatch", "[9568-7.1-c]", func() rxCase { c := baseV3v4(); c.m.Interval = 2 * time.Second; return c }, ErrIntervalMismatch},
		{"v3 owner hears a v2 advert in interop mode", "[E8298][5798-8.4.2-b]", func() rxCase { c := baseCompat(); c.cfg.Priority = 255; return c }, ErrOwnerConflict},
		{"v2 interval mismatch in interop mode", "[9568-8.4.2-a]", func() rxCase { c := baseCompat(); c.m.Interval = 3 * time.Second; return c }, ErrIntervalMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.c().run(t)
			if err != nil {
				t.Fatalf("%s: advert dropped with %v; the spec keeps it", tc.id, err)
			}
			if !res.Warnings.Has(CheckOf(tc.want)) {
				t.Fatalf("%s: warnings %v lack %v", tc.id, res.Warnings.Errors(), tc.want)
			}
			if n := len(res.Warnings.Errors()); n != 1 {
				t.Fatalf("%s: want exactly one warning, got %v", tc.id, res.Warnings.Errors())
			}
		})
	}
}

// Addresses may come in any order [5798-5.2.9-a] (SHOULD be the same order,
// but a different order is not a mismatch).
func TestValidateAddressOrder(t *testing.T) {
	c := baseV3v4()
	a2 := netip.MustParseAddr("10.77.0.253")
	c.m.Addresses = []netip.Addr{vip4, a2}
	c.cfg.Addresses = []netip.Addr{a2, vip4}
	res, err := c.run(t)
	if err != nil || res.Warnings != 0 {
		t.Fatalf("got %v, %v", err, res.Warnings.Errors())
	}
	c.cfg.Addresses = []netip.Addr{a2, a2}
	if res, _ := c.run(t); !res.Warnings.Has(CheckAddressList) {
		t.Fatal("duplicate config entry hid a missing address")
	}
}

// VRRPv3 over IPv4 accepts either checksum form and reports which matched
// [IMPL-4]; the unicast pseudo-header with 224.0.0.18 (FRR, old keepalived)
// is accepted too.
func TestValidateChecksumForms(t *testing.T) {
	for _, tc := range []struct {
		name   string
		form   ChecksumForm
		phDst  netip.Addr // destination used to compute the checksum
		ipDst  netip.Addr // destination in the IP header
		peers  []netip.Addr
		prefer ChecksumForm
		want   ChecksumForm
	}{
		{"pseudo-header", ChecksumPseudoHeader, MulticastIPv4, MulticastIPv4, nil, ChecksumPseudoHeader, ChecksumPseudoHeader},
		{"plain", ChecksumPlain, MulticastIPv4, MulticastIPv4, nil, ChecksumPseudoHeader, ChecksumPlain},
		{"plain preferred", ChecksumPlain, MulticastIPv4, MulticastIPv4, nil, ChecksumPlain, ChecksumPlain},
		{"pseudo-header, plain preferred", ChecksumPseudoHeader, MulticastIPv4, MulticastIPv4, nil, ChecksumPlain, ChecksumPseudoHeader},
		{"unicast, real destination", ChecksumPseudoHeader, r2, r2, []netip.Addr{r1}, ChecksumPseudoHeader, ChecksumPseudoHeader},
		{"unicast, group destination (FRR style)", ChecksumPseudoHeader, MulticastIPv4, r2, []netip.Addr{r1}, ChecksumPseudoHeader, ChecksumPseudoHeader},
		{"unicast, plain", ChecksumPlain, r2, r2, []netip.Addr{r1}, ChecksumPseudoHeader, ChecksumPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseV3v4()
			b, err := c.m.Encode(nil, r1, tc.phDst, tc.form)
			if err != nil {
				t.Fatal(err)
			}
			cfg := c.cfg
			cfg.Peers, cfg.Checksum = tc.peers, tc.prefer
			var m Message
			res, err := Validate(&m, b, IPHeader{Src: r1, Dst: tc.ipDst, TTL: 255}, func(uint8) *Config { return &cfg })
			if err != nil {
				t.Fatal(err)
			}
			if res.Form != tc.want {
				t.Fatalf("form %v, want %v", res.Form, tc.want)
			}
		})
	}
}

// A failed check leaves a previously validated message's addresses usable
// only through its own decode: Validate never panics on any prefix.
func TestValidateEveryPrefix(t *testing.T) {
	for _, base := range []func() rxCase{baseV3v4, baseV2, baseV3v6} {
		c := base()
		b, _ := c.m.Encode(nil, c.ip.Src, c.ip.Dst, 0)
		cfg := c.cfg
		for i := range len(b) {
			var m Message
			_, err := Validate(&m, b[:i], c.ip, func(uint8) *Config { return &cfg })
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("v%d prefix %d/%d: got %v, want ErrTruncated", c.m.Version, i, len(b), err)
			}
		}
	}
}

func TestReason(t *testing.T) {
	if got := Reason(ErrTTL); got != "ttl" {
		t.Fatalf("Reason(ErrTTL) = %q", got)
	}
	if got := Reason(errors.New("x")); got != "" {
		t.Fatalf("Reason(foreign) = %q", got)
	}
}
