package daemon

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"
)

// advertV2 encodes a VRRPv2 advert (auth none, as keepalived's default).
func advertV2(vrid, prio uint8, interval time.Duration, vips ...netip.Addr) []byte {
	m := vrrp.Message{Version: 2, Type: vrrp.TypeAdvertisement, VRID: vrid, Priority: prio, Family: vrrp.IPv4, Interval: interval, Addresses: vips}
	b, err := m.Encode(nil, netip.Addr{}, netip.Addr{}, vrrp.ChecksumPlain)
	if err != nil {
		panic(err)
	}
	return b
}

// The v2/v3 interoperation mode on the loop: a Master queues its VRRPv3
// advert and the VRRPv2 copy in one batch (one sendmmsg) [5798-8.4.2-c]; a
// Backup hears a VRRPv2 Master through the receive checks and times out on
// its rate [9568-8.4.2-a].
func TestLoopV2Compat(t *testing.T) {
	lab := newStepLab(t)
	c := routerCfg("m", 1, 200, time.Second)
	c.V2Compat = true
	r := lab.add(c)
	r.vrrpCfg.V2Compat = true // as open and reload set it
	lab.run(5*time.Second, nil)
	if st := r.fsm.Status(); st.State != fsm.Master {
		t.Fatalf("state %v", st.State)
	}
	if d := r.detail(); !d.V2Compat || d.Counters["v2_adverts_sent"] == 0 {
		t.Fatalf("the mode is not visible in the status: v2_compat %v, counters %v", d.V2Compat, d.Counters)
	}
	out := lab.sock.written()
	if len(out) < 4 {
		t.Fatalf("wrote %v", out)
	}
	for i := 0; i+1 < len(out); i += 2 {
		v3, v2 := out[i], out[i+1]
		if v3.Version != 3 || v2.Version != 2 || v3.Batch != v2.Batch || v2.Priority != 200 || v2.Interval != time.Second {
			t.Fatalf("[5798-8.4.2-c] adverts %d,%d: %+v %+v, want v3 then its v2 copy in one batch", i, i+1, v3, v2)
		}
	}

	// A VRRPv2 Master of higher priority with a 3 s Adver Int: the
	// router steps down and follows it on its rate.
	now := lab.clk.Now()
	lab.sock.deliver(pkt(advertV2(1, 250, 3*time.Second, vipOf(1)), peerA4, now+time.Millisecond))
	lab.at(now + time.Millisecond)
	st := r.fsm.Status()
	if st.State != fsm.Backup || st.MasterAddr != peerA4 || st.MasterAdverInterval != 3*time.Second {
		t.Fatalf("[9568-8.4.2-a] after a v2 Master: %v following %v at %v", st.State, st.MasterAddr, st.MasterAdverInterval)
	}
	if r.bad != nil && r.bad.discards != ([vrrp.NumChecks]uint64{}) {
		t.Fatalf("v2 advert dropped: %+v", r.bad.discards)
	}

	// Without the mode the same advert is dropped at the version check.
	lab2 := newStepLab(t)
	r2 := lab2.add(routerCfg("m", 1, 200, time.Second))
	lab2.sock.deliver(pkt(advertV2(1, 250, time.Second, vipOf(1)), peerA4, time.Millisecond))
	lab2.at(time.Millisecond)
	if r2.bad == nil || r2.bad.discards[vrrp.CheckOf(vrrp.ErrVersion)] != 1 {
		t.Fatalf("[5798-7.1-b] a v2 advert reached a v3 router")
	}
}
