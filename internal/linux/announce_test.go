package linux

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"govrrp/internal/linux/netnstest"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var vmac4, vmac6 = net.HardwareAddr{0, 0, 0x5e, 0, 1, 0x33}, net.HardwareAddr{0, 0, 0x5e, 0, 2, 0x33}

// TestGARPFrame checks AppendGARP against the example of spec §10.1.
func TestGARPFrame(t *testing.T) {
	want := unhex(t, `ff ff ff ff ff ff 00 00 5e 00 01 33 08 06 00 01 08 00 06 04 00 01
		00 00 5e 00 01 33 0a 4d 00 fe ff ff ff ff ff ff 0a 4d 00 fe`)
	want = append(want, make([]byte, 18)...)
	got := AppendGARP(nil, vmac4, netip.MustParseAddr("10.77.0.254"))
	if !bytes.Equal(got, want) {
		t.Fatalf("GARP\n got % x\nwant % x", got, want)
	}
}

// TestNAFrame checks AppendNA against the examples of spec §10.2.
func TestNAFrame(t *testing.T) {
	vip := netip.MustParseAddr("fe80::51")
	src := vip.As16()
	dst := allNodes.As16()
	want := unhex(t, "33 33 00 00 00 01 00 00 5e 00 02 33 86 dd 60 00 00 00 00 20 3a ff")
	want = append(want, src[:]...)
	want = append(want, dst[:]...)
	want = append(want, unhex(t, "88 00 78 c8 a0 00 00 00")...)
	want = append(want, src[:]...)
	want = append(want, unhex(t, "02 01 00 00 5e 00 02 33")...)
	if got := AppendNA(nil, vmac6, vip, true); !bytes.Equal(got, want) {
		t.Fatalf("NA\n got % x\nwant % x", got, want)
	}
	got := AppendNA(nil, vmac6, netip.MustParseAddr("2001:db8::51"), true)
	if got[56] != 0x1a || got[57] != 0x58 {
		t.Fatalf("checksum of the 2001:db8::51 NA = %02x%02x, want 1a58", got[56], got[57])
	}
	// Without the Router flag only the flags word and the checksum change.
	nr := AppendNA(nil, vmac6, vip, false)
	if nr[58] != 0x20 {
		t.Fatalf("flags %02x, want 20 (Override only)", nr[58])
	}
}

func isGARP(vip netip.Addr) func([]byte) bool {
	ip := vip.As4()
	return func(f []byte) bool {
		return netnstest.EtherType(f) == 0x0806 && len(f) >= 42 && f[21] == 1 && bytes.Equal(f[28:32], ip[:]) && bytes.Equal(f[38:42], ip[:])
	}
}

func isNA(vip netip.Addr) func([]byte) bool {
	ip := vip.As16()
	return func(f []byte) bool {
		return netnstest.EtherType(f) == 0x86dd && len(f) >= 86 && f[20] == 58 && f[54] == 136 && bytes.Equal(f[62:78], ip[:])
	}
}

// TestAnnouncerBursts runs real bursts in a namespace: the frames a
// neighbour captures are the spec's, the delayed second burst comes, and
// Stop cancels what is pending.
func TestAnnouncerBursts(t *testing.T) {
	lan := netnstest.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	sniff := netnstest.Sniff(t, r2, "eth0")
	vip4, vip6 := netip.MustParseAddr("10.77.0.254"), netip.MustParseAddr("fd77::254")
	r1.MustSysctl(t, "net/ipv6/conf/eth0/forwarding", "1")

	const delay = 300 * time.Millisecond
	a := NewAnnouncer(AnnounceConfig{Repeat: 2, Interval: 20 * time.Millisecond, Delay: delay})
	t.Cleanup(a.Close)
	k4 := AnnounceKey{Interface: "eth0", VRID: 51}
	k6 := AnnounceKey{Interface: "eth0", VRID: 51, IPv6: true}
	start := time.Now()
	r1.MustDo(t, func() error {
		if err := a.Start(k4, vmac4, []netip.Addr{vip4}); err != nil {
			return err
		}
		return a.Start(k6, vmac6, []netip.Addr{vip6})
	})
	wantGARP := AppendGARP(nil, vmac4, vip4)
	wantNA := AppendNA(nil, vmac6, vip6, true)
	var garps, nas int
	for garps < 4 || nas < 4 { // 2 + 2 after the delay, of each
		f, err := sniff.Next(waitLong, func(f []byte) bool { return isGARP(vip4)(f) || isNA(vip6)(f) })
		if err != nil {
			t.Fatalf("after %d GARPs and %d NAs: %v", garps, nas, err)
		}
		if isGARP(vip4)(f) {
			if !bytes.Equal(f, wantGARP) {
				t.Fatalf("GARP on the wire\n% x\nwant\n% x", f, wantGARP)
			}
			garps++
			if garps == 3 && time.Since(start) < delay {
				t.Fatalf("second burst after %v, before the %v delay", time.Since(start), delay)
			}
			continue
		}
		if !bytes.Equal(f, wantNA) {
			t.Fatalf("NA on the wire (Router flag expected: eth0 forwards)\n% x\nwant\n% x", f, wantNA)
		}
		nas++
	}

	// Stop before the delayed burst: nothing more may come.
	a2 := NewAnnouncer(AnnounceConfig{Repeat: 1, Delay: 300 * time.Millisecond, Refresh: time.Second})
	t.Cleanup(a2.Close)
	vip := netip.MustParseAddr("10.77.0.253")
	r1.MustDo(t, func() error { return a2.Start(k4, nil, []netip.Addr{vip}) })
	if _, err := sniff.Next(waitLong, isGARP(vip)); err != nil {
		t.Fatal(err)
	}
	a2.Stop(k4)
	if a2.Running(k4) {
		t.Fatal("job still running after Stop")
	}
	if f, err := sniff.Next(time.Second, isGARP(vip)); err == nil {
		t.Fatalf("GARP after Stop: % x", f)
	}
}
