package lab

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"govrrp/internal/pcapfile"
	"govrrp/vrrp"
)

func floodTestConfig(fam vrrp.Family) FloodConfig {
	addr := netip.MustParseAddr("10.77.0.254")
	if fam == vrrp.IPv6 {
		addr = netip.MustParseAddr("fe80::1")
	}
	return FloodConfig{Interface: "eth0", Family: fam, Rate: 20000, Duration: time.Second, Valid: 0.4,
		VRID: 51, Version: 3, Priority: 50, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{addr}}
}

// The pool holds exactly the configured share of adverts that pass every
// receive check, and junk of every kind that a router must drop, each for
// the reason it was made for.
func TestFloodPool(t *testing.T) {
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			cfg := floodTestConfig(fam)
			src, dst, hdr := netip.MustParseAddr("10.77.0.100"), vrrp.MulticastIPv4, 20
			if fam == vrrp.IPv6 {
				src, dst, hdr = netip.MustParseAddr("fe80::100"), vrrp.MulticastIPv6, 40
			}
			p, err := buildFloodPool(cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			lookup := func(vrid uint8) *vrrp.Config {
				if vrid != cfg.VRID {
					return nil
				}
				return &vrrp.Config{Version: 3, Priority: 200, Interval: cfg.Interval, Addresses: cfg.Addresses}
			}
			valid, reasons := 0, map[string]int{}
			for i, pkt := range p.pkts {
				ttl := pkt[8]
				if fam == vrrp.IPv6 {
					ttl = pkt[7]
				} else if pcapfile.IPv4HeaderChecksum(pkt[:20]) != 0 {
					t.Fatalf("packet %d: bad IPv4 header checksum", i)
				}
				_, err := vrrp.Validate(new(vrrp.Message), pkt[hdr:], vrrp.IPHeader{Src: src, Dst: dst, TTL: ttl}, lookup)
				if p.valid[i] != (err == nil) {
					t.Fatalf("packet %d: marked valid=%v, Validate: %v", i, p.valid[i], err)
				}
				if err == nil {
					valid++
				} else {
					reasons[vrrp.Reason(err)]++
				}
			}
			if valid != 400 {
				t.Errorf("%d valid of %d, want 400", valid, len(p.pkts))
			}
			for _, r := range []string{"ttl", "version", "vrid", "checksum", "truncated"} {
				if reasons[r] < 50 {
					t.Errorf("only %d junk packets dropped for %q (all: %v)", reasons[r], r, reasons)
				}
			}
		})
	}
}

func TestFloodRefusesForeignNodes(t *testing.T) {
	host, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	cfg := floodTestConfig(vrrp.IPv4)
	for name, nd := range map[string]*Node{
		"nil":            nil,
		"host namespace": {Name: Prefix + "1-1-r1", NS: host},
		"foreign name":   {Name: "lab", NS: host},
	} {
		if _, err := Flood(context.Background(), nd, cfg); err == nil {
			t.Errorf("%s: flood accepted", name)
		}
	}
	for name, mut := range map[string]func(*FloodConfig){
		"no duration":      func(c *FloodConfig) { c.Duration = 0 },
		"too long":         func(c *FloodConfig) { c.Duration = MaxFloodDuration + 1 },
		"rate":             func(c *FloodConfig) { c.Rate = MaxFloodRate + 1 },
		"public address":   func(c *FloodConfig) { c.Addresses = []netip.Addr{netip.MustParseAddr("192.0.2.1")} },
		"v2 over IPv6":     func(c *FloodConfig) { c.Family, c.Version = vrrp.IPv6, 2 },
		"valid share":      func(c *FloodConfig) { c.Valid = 1.5 },
		"mixed families":   func(c *FloodConfig) { c.Family = vrrp.IPv6 },
		"no interface":     func(c *FloodConfig) { c.Interface = "" },
		"zero VRID":        func(c *FloodConfig) { c.VRID = 0 },
		"no valid address": func(c *FloodConfig) { c.Addresses = nil },
	} {
		c := floodTestConfig(vrrp.IPv4)
		mut(&c)
		if err := c.check(); err == nil {
			t.Errorf("%s: config accepted", name)
		}
	}
}

// A flood reaches the other nodes of the LAN, sends at most Rate·Duration
// packets with the configured share of valid adverts, and stops on ctx.
// It logs the rate reached at 150k packets/s.
func TestFlood(t *testing.T) {
	lan := NewLAN(t, 2)
	from, to := lan.Nodes[0], lan.Nodes[1]
	for _, fam := range []vrrp.Family{vrrp.IPv4, vrrp.IPv6} {
		t.Run(fam.String(), func(t *testing.T) {
			cfg := floodTestConfig(fam)
			cfg.Rate = 150000
			before := rxPackets(t, to)
			st, err := Flood(context.Background(), from, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v: sent %d (%d valid), %d refused in %v: %.0f packets/s", fam, st.Sent, st.Valid, st.Errors, st.Elapsed, st.Rate())
			if limit := uint64(cfg.Rate) * uint64(cfg.Duration/time.Second); st.Sent+st.Errors > limit || st.Elapsed > cfg.Duration+time.Second/2 {
				t.Fatalf("flood exceeded its bounds: %d packets in %v", st.Sent+st.Errors, st.Elapsed)
			}
			if st.Sent < 10000 {
				t.Fatalf("only %d packets sent", st.Sent)
			}
			if share := float64(st.Valid) / float64(st.Sent); share < 0.39 || share > 0.41 {
				t.Errorf("valid share %.3f, want 0.4", share)
			}
			// The receiver may drop some under load (its backlog); most arrive.
			if got := rxPackets(t, to) - before; got < st.Sent/2 {
				t.Errorf("the other node received %d of %d", got, st.Sent)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		cfg := floodTestConfig(vrrp.IPv4)
		cfg.Duration = time.Minute
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		st, err := Flood(ctx, from, cfg)
		if err != nil || st.Elapsed > 2*time.Second {
			t.Fatalf("a cancelled flood ran %v: %v", st.Elapsed, err)
		}
	})
}

func rxPackets(t *testing.T, nd *Node) uint64 {
	t.Helper()
	l, err := nd.Handle.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Statistics.RxPackets
}
