package probe_test

import (
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/lab/probe"
)

// The prober on a real LAN: a host pings a node over IPv4 and IPv6, sees
// its MAC, and measures the outage while its cable is out as at
// least that long and recovered.
func TestProberMeasuresACablePull(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	node, host := lan.Nodes[0], lan.Nodes[1]
	ifi, err := node.Interface("eth0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := probe.Start(probe.Host{Do: host.Do, IfName: host.IfName}, 2*time.Millisecond, node.V4.Addr(), node.V6.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	for _, tg := range p.Targets {
		if !tg.WaitReply(time.Time{}, 5*time.Second) {
			t.Fatalf("%v: no echo reply", tg.Addr)
		}
		if got := tg.LastMAC(); got != ifi.HardwareAddr.String() {
			t.Errorf("%v answered by %s, want %s", tg.Addr, got, ifi.HardwareAddr)
		}
	}

	const down = 100 * time.Millisecond
	t0 := time.Now()
	lan.Unplug(t, node)
	pulled := time.Now()
	time.Sleep(down)
	plugging := time.Now()
	lan.Plug(t, node)
	for _, tg := range p.Targets {
		if !tg.WaitReply(plugging, 5*time.Second) {
			t.Fatalf("%v: no echo reply after the cable came back", tg.Addr)
		}
	}
	p.Stop()
	p.Stop()
	end := time.Now()
	for _, tg := range p.Targets {
		o := tg.Outage(t0, end)
		t.Logf("%v: %v", tg.Addr, o)
		if !o.Recovered || o.Len < down || o.Len > down+3*time.Second || o.From.After(pulled) || o.To.Before(plugging) {
			t.Errorf("%v: %v, want a recovered outage of at least %v from before the pull to after the plug", tg.Addr, o, down)
		}
		if o.Recv == 0 || o.Recv >= o.Sent {
			t.Errorf("%v: %d answered of %d sent", tg.Addr, o.Recv, o.Sent)
		}
	}
}
