package vrrp

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// Decoding arbitrary bytes never panics, and whatever decodes re-encodes to a
// message that decodes to the same thing (unmarshal → marshal → unmarshal is
// stable). Seeds: the spec's worked examples, plus testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"31 33 96 01 00 64 42 3f 0a 4d 00 fe",
		"21 33 96 01 01 01 cf 00 0a 4d 00 fe 73 65 63 72 65 74 31 32",
		"31 33 64 02 00 64 3f 5b fe800000000000000000000000000051 20010db8000000000000000000000051",
	} {
		f.Add(unhex(f, s), true)
		f.Add(unhex(f, s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		fam := IPv4
		if v6 {
			fam = IPv6
		}
		var m Message
		if err := m.Decode(b, fam); err != nil {
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			// Only an interval the encoder can't represent may fail: v2
			// intervals are whole seconds and v3 ones 10 ms steps, both
			// decoded exactly, so nothing decoded may be refused.
			t.Fatalf("decoded message does not re-encode: %v (%+v)", err, m)
		}
		var again Message
		if err := again.Decode(out, fam); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		out2, _ := again.MarshalBinary()
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%x\n%x", out, out2)
		}
		// Only the reserved nibble may differ from the input.
		in := bytes.Clone(b[:len(out)])
		if m.Version == 3 {
			in[4] &= 0x0f
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("re-encode differs from input beyond reserved bits:\n%x\n%x", in, out)
		}
	})
}

// Validate never panics and never reports success for a payload that does not
// decode, whatever the bytes and header facts.
func FuzzValidate(f *testing.F) {
	f.Add(unhex(f, "31 33 96 01 00 64 42 3f 0a 4d 00 fe"), uint8(255), false, false)
	f.Add(unhex(f, "21 33 96 01 01 01 cf 00 0a 4d 00 fe 73 65 63 72 65 74 31 32"), uint8(255), false, true)
	f.Add(unhex(f, "31 33 64 02 00 64 3f 5b fe800000000000000000000000000051 20010db8000000000000000000000051"), uint8(255), true, true)
	pw, _ := Password("secret12")
	cfg := map[bool]*Config{
		false: {Version: 3, Priority: 100, Interval: time.Second, Addresses: []netip.Addr{vip4}, AuthType: AuthPassword, AuthData: pw},
		true:  {Version: 3, Priority: 255, Interval: time.Second, Addresses: []netip.Addr{vipLL, vip6}, Strict: true},
	}
	f.Fuzz(func(t *testing.T, b []byte, ttl uint8, v6, withCfg bool) {
		ip := IPHeader{Src: r1, Dst: MulticastIPv4, TTL: ttl}
		if v6 {
			ip = IPHeader{Src: ll1, Dst: MulticastIPv6, TTL: ttl}
		}
		var lookup Lookup
		if withCfg {
			lookup = func(vrid uint8) *Config {
				if vrid == 51 {
					return cfg[v6]
				}
				return nil
			}
		}
		var m Message
		if _, err := Validate(&m, b, ip, lookup); err == nil {
			var d Message
			if err := d.Decode(b, FamilyOf(ip.Src)); err != nil {
				t.Fatalf("validated but does not decode: %v", err)
			}
		}
	})
}
