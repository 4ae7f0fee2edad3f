package daemon

import (
	"testing"
	"time"

	"govrrp/vrrp"
)

// mismatchLogs returns the version-mismatch reports among the effects.
func (lab *stepLab) mismatchLogs() []effect {
	var out []effect
	for _, e := range lab.effects {
		if e.kind == effLog && e.msg == msgVersionMismatch {
			out = append(out, e)
		}
	}
	return out
}

// The version guard: adverts for a configured VRID on the other VRRP
// version are still dropped at the version check [5798-7.1-b] and counted
// there, and a peer that keeps sending them is reported once per episode,
// naming it and both versions: keepalived defaults to VRRPv2 for IPv4, we
// to VRRPv3, and such a pair has two Masters without a word.
func TestLoopVersionMismatch(t *testing.T) {
	// A VRRPv3 router hearing a VRRPv2 peer every second.
	lab := newStepLab(t)
	r := lab.add(routerCfg("r", 7, 100, time.Second))
	for i := range 10 {
		at := time.Duration(i)*time.Second + time.Millisecond
		lab.sock.deliver(pkt(advertV2(7, 200, time.Second, vipOf(7)), peerA4, at))
		lab.at(at)
	}
	logs := lab.mismatchLogs()
	if len(logs) != 1 || logs[0].src != peerA4 || logs[0].version != 2 {
		t.Fatalf("[5798-7.1-b] %d reports %+v, want one naming %v and version 2", len(logs), logs, peerA4)
	}
	d := r.detail()
	if d.Discards["version"] != 10 || d.Counters["version_mismatch"] != 10 {
		t.Fatalf("discards %v, counters %v: want 10 dropped at the version check, 10 mismatches", d.Discards, d.Counters)
	}
	vm := d.VersionMismatch
	if vm == nil || !vm.Active || vm.Episodes != 1 || vm.Peer != peerA4.String() || vm.PeerVersion != 2 || vm.Version != 3 {
		t.Fatalf("status %+v", vm)
	}
	// The peer goes quiet: the episode ends; when it comes back, a new
	// one is reported.
	lab.at(20 * time.Second)
	if vm := r.detail().VersionMismatch; vm.Active {
		t.Fatalf("still active after the peer went quiet: %+v", vm)
	}
	for i := range 3 {
		at := 30*time.Second + time.Duration(i)*time.Second
		lab.sock.deliver(pkt(advertV2(7, 200, time.Second, vipOf(7)), peerA4, at))
		lab.at(at)
	}
	if n := len(lab.mismatchLogs()); n != 2 {
		t.Fatalf("%d reports after the second episode, want 2", n)
	}
	if vm := r.detail().VersionMismatch; !vm.Active || vm.Episodes != 2 {
		t.Fatalf("second episode: %+v", vm)
	}

	// A VRRPv2 router beside a VRRPv3 Master in the interoperation mode
	// (v2_compat), which sends both versions [5798-8.4.2-c]: its VRRPv3
	// adverts are dropped as before, but the peer is heard, so there is
	// nothing to report, whichever copy arrives first.
	lab2 := newStepLab(t)
	c2 := routerCfg("r2", 8, 100, time.Second)
	c2.Version, c2.Checksum = 2, vrrp.ChecksumPlain
	r2 := lab2.add(c2)
	for i := range 10 {
		at := time.Duration(i)*time.Second + time.Millisecond
		v3 := pkt(advert(8, 200, peerA4, time.Second, vipOf(8)), peerA4, at)
		v2 := pkt(advertV2(8, 200, time.Second, vipOf(8)), peerA4, at+time.Microsecond)
		if i%2 == 1 {
			v3.arrival, v2.arrival = v2.arrival, v3.arrival
			lab2.sock.deliver(v2, v3)
		} else {
			lab2.sock.deliver(v3, v2)
		}
		lab2.at(at + time.Microsecond)
	}
	d2 := r2.detail()
	if n := len(lab2.mismatchLogs()); n != 0 || d2.VersionMismatch != nil || d2.Counters["version_mismatch"] != 0 {
		t.Fatalf("[5798-8.4.2-b] a v2_compat peer reported as a mismatch: %d reports, %+v, counters %v", n, d2.VersionMismatch, d2.Counters)
	}
	if d2.Discards["version"] != 10 {
		t.Fatalf("discards %v, want the 10 VRRPv3 adverts", d2.Discards)
	}

	// And a VRRPv3 router not in the mode beside the same Master: it
	// follows its VRRPv3 adverts and drops the VRRPv2 copies, quietly.
	lab3 := newStepLab(t)
	r3 := lab3.add(routerCfg("r3", 9, 100, time.Second))
	for i := range 10 {
		at := time.Duration(i)*time.Second + time.Millisecond
		lab3.sock.deliver(pkt(advert(9, 200, peerA4, time.Second, vipOf(9)), peerA4, at),
			pkt(advertV2(9, 200, time.Second, vipOf(9)), peerA4, at+time.Microsecond))
		lab3.at(at + time.Microsecond)
	}
	d3 := r3.detail()
	if n := len(lab3.mismatchLogs()); n != 0 || d3.VersionMismatch != nil || d3.Discards["version"] != 10 || d3.Master != peerA4.String() {
		t.Fatalf("[5798-8.4.2-c] %d reports, %+v, discards %v, master %q", n, d3.VersionMismatch, d3.Discards, d3.Master)
	}
}
