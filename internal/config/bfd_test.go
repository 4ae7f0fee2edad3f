package config

import (
	"net/netip"
	"testing"
	"time"
)

// Top-level BFD sessions: defaults and every key (the refusals are in
// TestParseErrors, "bfd: ...").
func TestParseBFD(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`bfd:
  - {name: frr, peer: 10.77.0.2, interface: eth0}
  - name: frr6
    peer: fe80::2
    interface: eth0
    local_address: fe80::1
    min_tx: 10ms
    min_rx: 20ms
    multiplier: 5
    passive: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []BFDSession{
		{Name: "frr", Peer: netip.MustParseAddr("10.77.0.2"), Interface: "eth0", MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3},
		{Name: "frr6", Peer: netip.MustParseAddr("fe80::2"), Interface: "eth0", Local: netip.MustParseAddr("fe80::1"),
			MinTx: 10 * time.Millisecond, MinRx: 20 * time.Millisecond, Multiplier: 5, Passive: true},
	}
	if len(c.BFD) != 2 {
		t.Fatalf("%+v", c.BFD)
	}
	for i := range want {
		want[i].Pos = c.BFD[i].Pos
		if c.BFD[i] != want[i] {
			t.Errorf("session %d: %+v\nwant %+v", i, c.BFD[i], want[i])
		}
	}

}
