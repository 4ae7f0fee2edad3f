package config

import (
	"net/netip"
	"strings"
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

// The host check warns about a session whose interface is missing or lacks
// its local address: the session waits until they appear.
func TestCheckHostBFD(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`bfd:
  - {name: ok, peer: 10.77.0.2, interface: eth0, local_address: 10.77.0.1}
  - {name: noif, peer: 10.77.0.2, interface: eth9}
  - {name: noaddr, peer: 10.77.0.3, interface: eth0, local_address: 10.77.0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	warns, err := Check(c, fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.1/24")}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		if strings.Contains(w.What, "BFD") {
			got = append(got, w.Error())
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "c.yaml:7:5: BFD session noif: interface \"eth9\"") ||
		!strings.HasPrefix(got[1], "c.yaml:8:5: BFD session noaddr: local_address 10.77.0.9 is not an address of eth0") {
		t.Fatalf("warnings %q", got)
	}
}

// routers[].bfd_master: defaults, every key, and refusals.
func TestParseBFDMaster(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`    bfd_master: {}
  - interface: eth0
    vrid: 52
    addresses: [10.77.0.253/24]
    bfd_master: {min_tx: 10ms, min_rx: 10ms, multiplier: 3, successor: true}
  - interface: eth0
    vrid: 53
    addresses: [10.77.0.252/24]
`))
	if err != nil {
		t.Fatal(err)
	}
	m0, m1 := c.Routers[0].BFDMaster, c.Routers[1].BFDMaster
	if m0 == nil || m0.MinTx != 300*time.Millisecond || m0.MinRx != 300*time.Millisecond || m0.Multiplier != 3 || m0.Successor != SuccessorAuto {
		t.Errorf("defaults %+v", m0)
	}
	if m1 == nil || m1.MinTx != 10*time.Millisecond || m1.MinRx != 10*time.Millisecond || m1.Successor != SuccessorTrue {
		t.Errorf("set %+v", m1)
	}
	if c.Routers[2].BFDMaster != nil {
		t.Errorf("absent: %+v", c.Routers[2].BFDMaster)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"    bfd_master: {successor: maybe}\n", "c.yaml:5:29"},
		{"    bfd_master: {min_tx: 1ms}\n", "c.yaml:5:26"},
		{"    bfd_master: {intervall: 10ms}\n", "c.yaml:5:18"},
	} {
		if _, err := Parse("c.yaml", []byte(base+tc.yaml)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %s", tc.yaml, err, tc.want)
		}
	}
}
