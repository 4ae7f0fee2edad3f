package daemon

import (
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"
)

// encodeAdvert encodes m from src to the IPv4 group, as the wire carries
// it.
func encodeAdvert(m vrrp.Message, src netip.Addr, form vrrp.ChecksumForm) []byte {
	m.Type, m.Family = vrrp.TypeAdvertisement, vrrp.IPv4
	b, err := m.Encode(nil, src, vrrp.MulticastIPv4, form)
	if err != nil {
		panic(err)
	}
	return b
}

// Each receive check that fails is counted on the router under its own
// name, once per datagram, and the datagram reaches no state machine: the
// Backup still follows no Master and has counted no advert [5798-7.1]. The
// checks that only warn (VRRPv3 and the lenient defaults [E8299][IMPL-10])
// count a warning under theirs and let the advert through. A VRID nobody
// runs is counted on the interface [5798-7.1-e].
func TestLoopCountsEachReceiveCheck(t *testing.T) {
	vip := vipOf(1)
	v3 := func(mod func(*vrrp.Message)) []byte {
		m := vrrp.Message{Version: 3, VRID: 1, Priority: 200, Interval: time.Second, Addresses: []netip.Addr{vip}}
		if mod != nil {
			mod(&m)
		}
		return encodeAdvert(m, peerA4, vrrp.ChecksumPseudoHeader)
	}
	v2 := func(mod func(*vrrp.Message)) []byte {
		m := vrrp.Message{Version: 2, VRID: 1, Priority: 200, Interval: time.Second, Addresses: []netip.Addr{vip}}
		m.AuthType, m.AuthData = vrrp.AuthPassword, password(t, "secret")
		if mod != nil {
			mod(&m)
		}
		return encodeAdvert(m, peerA4, vrrp.ChecksumPlain)
	}
	flip := func(b []byte, i int, x byte) []byte { b[i] ^= x; return b }
	own := encodeAdvert(vrrp.Message{Version: 3, VRID: 1, Priority: 200, Interval: time.Second, Addresses: []netip.Addr{vip}}, self4, vrrp.ChecksumPseudoHeader)
	// Auth type 3 (Encode refuses it): the VRRPv2 checksum covers only
	// the message, so it is summed again here.
	auth3 := v2(nil)
	auth3[4] = 3
	resum(auth3)
	cases := []struct {
		name    string
		version uint8 // the router's; 0: 3
		payload []byte
		src     netip.Addr // zero: peerA4
		dst     netip.Addr // zero: the group
		ttl     uint8      // zero: 255
		drop    string     // the check that drops it
		warn    []string   // or the checks that warn
		iface   string     // or the check counted on the interface
	}{
		{name: "[5798-7.1-c] truncated", payload: v3(nil)[:6], drop: "truncated"},
		{name: "[5798-7.1-a] TTL 64", payload: v3(nil), ttl: 64, drop: "ttl"},
		{name: "[5798-7.1-b] version 2 to a v3 router", payload: v2(nil), drop: "version"},
		{name: "[5798-7.1-b] type 2", payload: flip(v3(nil), 0, 0x03), drop: "type"},
		{name: "[5798-7.1-d] checksum", payload: flip(v3(nil), 6, 0xff), drop: "checksum"},
		{name: "own advert looped back", payload: own, src: self4, drop: "own_advert"},
		{name: "unicast to a multicast router", payload: v3(nil), dst: self4, drop: "destination"},
		{name: "[E8301] zero interval", payload: v3(func(m *vrrp.Message) { m.Interval = 0 }), drop: "zero_interval"},
		{name: "[5798-7.1-h] other addresses", payload: v3(func(m *vrrp.Message) { m.Addresses = []netip.Addr{vipOf(2)} }), warn: []string{"address_list"}},
		{name: "[E8299] no address", payload: v3(func(m *vrrp.Message) { m.Addresses = nil }), warn: []string{"zero_count", "address_list"}},
		{name: "[9568-7.1-c] other interval", payload: v3(func(m *vrrp.Message) { m.Interval = 2 * time.Second }), warn: []string{"interval_mismatch"}},
		{name: "[5798-7.1-e] unknown VRID", payload: v3(func(m *vrrp.Message) { m.VRID = 9 }), iface: "vrid"},
		{name: "[3768-7.1-f] no authentication", version: 2, payload: v2(func(m *vrrp.Message) { m.AuthType, m.AuthData = vrrp.AuthNone, [8]byte{} }), drop: "auth_type_mismatch"},
		{name: "[3768-7.1-f] wrong password", version: 2, payload: v2(func(m *vrrp.Message) { m.AuthData = password(t, "guess") }), drop: "auth_failure"},
		{name: "[3768-5.3.6-a] auth type 3", version: 2, payload: auth3, drop: "auth_type_invalid"},
		{name: "[3768-7.1-i] v2 other interval", version: 2, payload: v2(func(m *vrrp.Message) { m.Interval = 2 * time.Second }), drop: "interval_mismatch"},
		{name: "v2 passes", version: 2, payload: v2(nil)},
		{name: "v3 passes", payload: v3(nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := newStepLab(t)
			c := routerCfg("vr", 1, 100, time.Second)
			if tc.version == 2 {
				c.Version, c.Checksum, c.AuthType, c.AuthPassword = 2, vrrp.ChecksumPlain, vrrp.AuthPassword, "secret"
			}
			r := lab.add(c)
			// As open does from the configuration.
			r.vrrpCfg.AuthType, r.vrrpCfg.AuthData = r.msg.AuthType, r.msg.AuthData
			lab.at(0)
			p := pkt(tc.payload, peerA4, time.Millisecond)
			if tc.src.IsValid() {
				p.ip.Src = tc.src
			}
			if tc.dst.IsValid() {
				p.ip.Dst = tc.dst
			}
			if tc.ttl != 0 {
				p.ip.TTL = tc.ttl
			}
			lab.sock.deliver(p)
			lab.at(time.Millisecond)

			det, st, ifst := r.detail(), r.fsm.Status(), lab.l.status()
			wantDrops := map[string]uint64{}
			if tc.drop != "" {
				wantDrops[tc.drop] = 1
			}
			if !maps.Equal(det.Discards, wantDrops) {
				t.Fatalf("router discards %v, want %v", det.Discards, wantDrops)
			}
			for _, ch := range []string{"address_list", "zero_count", "interval_mismatch", "owner_conflict", "first_not_link_local"} {
				want := uint64(0)
				if slices.Contains(tc.warn, ch) {
					want = 1
				}
				if n := det.Counters["warning_"+ch]; n != want {
					t.Fatalf("warning_%s = %d, want %d", ch, n, want)
				}
			}
			wantIface := map[string]uint64{}
			if tc.iface != "" {
				wantIface[tc.iface] = 1
			}
			if !maps.Equal(ifst.Discards, wantIface) {
				t.Fatalf("interface discards %v, want %v", ifst.Discards, wantIface)
			}
			passed := tc.drop == "" && tc.iface == ""
			switch {
			case st.State != fsm.Backup:
				t.Fatalf("state %v", st.State)
			case passed && (st.MasterAddr != peerA4 || st.Counters.RcvdAdvertisements != 1):
				t.Fatalf("a passing advert was not heard: master %v, %d adverts", st.MasterAddr, st.Counters.RcvdAdvertisements)
			case !passed && (st.MasterAddr.IsValid() || st.Counters.RcvdAdvertisements != 0):
				t.Fatalf("a dropped datagram reached the state machine: master %v, %d adverts", st.MasterAddr, st.Counters.RcvdAdvertisements)
			}
		})
	}
}

func password(t *testing.T, s string) [8]byte {
	t.Helper()
	p, err := vrrp.Password(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// resum sets the checksum of a VRRPv2 message (RFC 1071 over the message).
func resum(b []byte) {
	b[6], b[7] = 0, 0
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	b[6], b[7] = byte(^sum>>8), byte(^sum)
}
