package vrrp_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/pcapfile"
	"govrrp/internal/testenv"
	"govrrp/vrrp"
)

// The lab of testdata/captures/README.md: r1 (priority 150) and r2
// (priority 100), VRID 51.
var (
	labR1   = netip.MustParseAddr("10.77.0.1")
	labR2   = netip.MustParseAddr("10.77.0.2")
	labVIP1 = netip.MustParseAddr("10.77.0.254")
	labVIP2 = netip.MustParseAddr("10.77.0.253")
	labLL   = netip.MustParseAddr("fe80::51")
	labVIP6 = netip.MustParseAddr("fd77::254")
	// Link-local sources seen in the captures, all of them r1's:
	// keepalived's interface address, and FRR's macvlan EUI-64 address.
	r1LinkLocal = map[netip.Addr]bool{
		netip.MustParseAddr("fe80::909c:bfff:fe6a:8f56"): true,
		netip.MustParseAddr("fe80::200:5eff:fe00:233"):   true,
	}
)

// captureCase is one capture file and the configuration its peers ran.
type captureCase struct {
	file string
	// vrrp is the number of IP protocol 112 packets, and prio0 the
	// priority-0 ones, counted with
	// tshark -r FILE -Y '(ip.proto==112 or ipv6.nxt==112) && vrrp.prio==0'.
	vrrp, prio0 int
	// config returns the virtual router of family fam as the receiving
	// router (priority prio, own address local) has it configured.
	config func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config
	form   map[vrrp.Family]vrrp.ChecksumForm // expected checksum form
	warn   map[vrrp.Family]vrrp.Warnings     // expected warnings, exactly
}

var captureCases = []captureCase{
	{
		file: "keepalived-v2-ipv4-auth.pcap", vrrp: 4, prio0: 1,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			pass, _ := vrrp.Password("secret12")
			return &vrrp.Config{Version: 2, Priority: prio, Interval: time.Second, Addresses: []netip.Addr{labVIP1, labVIP2},
				AuthType: vrrp.AuthPassword, AuthData: pass, Local: local}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv4: vrrp.ChecksumPlain},
	},
	{
		file: "keepalived-v3-ipv4.pcap", vrrp: 31, prio0: 1,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			return &vrrp.Config{Version: 3, Priority: prio, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{labVIP1, labVIP2}, Local: local}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv4: vrrp.ChecksumPseudoHeader},
	},
	{
		file: "keepalived-v3-ipv6.pcap", vrrp: 31, prio0: 1,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			if fam != vrrp.IPv6 {
				return nil
			}
			return &vrrp.Config{Version: 3, Priority: prio, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{labLL, labVIP6}, Local: local}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv6: vrrp.ChecksumPseudoHeader},
	},
	{
		file: "keepalived-v3-ipv4-unicast.pcap", vrrp: 31, prio0: 1,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			peer := labR1
			if local == labR1 {
				peer = labR2
			}
			return &vrrp.Config{Version: 3, Priority: prio, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{labVIP1},
				Local: local, Peers: []netip.Addr{peer}}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv4: vrrp.ChecksumPseudoHeader},
	},
	{
		file: "frr-v3-dual.pcap", vrrp: 133, prio0: 2,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			if fam == vrrp.IPv6 {
				// FRR lists only the configured global address, no link-local.
				return &vrrp.Config{Version: 3, Priority: prio, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{labVIP6}}
			}
			return &vrrp.Config{Version: 3, Priority: prio, Interval: 100 * time.Millisecond, Addresses: []netip.Addr{labVIP1}, Local: local}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv4: vrrp.ChecksumPseudoHeader, vrrp.IPv6: vrrp.ChecksumPseudoHeader},
		warn: map[vrrp.Family]vrrp.Warnings{vrrp.IPv6: vrrp.WarnFirstNotLinkLocal}, // [IMPL-8]
	},
	{
		file: "frr-v2-ipv4.pcap", vrrp: 5, prio0: 1,
		config: func(fam vrrp.Family, prio uint8, local netip.Addr) *vrrp.Config {
			return &vrrp.Config{Version: 2, Priority: prio, Interval: time.Second, Addresses: []netip.Addr{labVIP1}, Local: local}
		},
		form: map[vrrp.Family]vrrp.ChecksumForm{vrrp.IPv4: vrrp.ChecksumPlain},
	},
}

// receiver returns the receiving router's priority and own IPv4 address for
// an advert from src: r1's adverts are checked with r2's configuration and
// the other way round.
func receiver(t *testing.T, src netip.Addr) (uint8, netip.Addr) {
	switch {
	case src == labR1 || r1LinkLocal[src]:
		return 100, labR2
	case src == labR2:
		return 150, labR1
	}
	t.Fatalf("advert from %v, neither r1 nor r2", src)
	return 0, netip.Addr{}
}

// Real keepalived and FRR traffic: every advert decodes, passes the receive
// checks with the peer's configuration, reports the checksum form those
// daemons use, and re-encodes to the captured bytes.
func TestCaptures(t *testing.T) {
	for _, tc := range captureCases {
		t.Run(tc.file, func(t *testing.T) {
			pkts, err := pcapfile.ReadFile(filepath.Join("testdata", "captures", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			n, prio0 := 0, 0
			last := map[vrrp.Family]uint8{} // priority of the last advert per family
			for _, p := range pkts {
				if p.IPVersion == 0 || p.Protocol != vrrp.IPProtocol {
					continue
				}
				n++
				if p.Err != nil {
					t.Fatalf("frame %d: %v", p.Index, p.Err)
				}
				fam := vrrp.FamilyOf(p.Src)
				prio, local := receiver(t, p.Src)
				cfg := tc.config(fam, prio, local)
				if cfg == nil {
					t.Fatalf("frame %d: unexpected %v advert", p.Index, fam)
				}
				lookup := func(vrid uint8) *vrrp.Config {
					if vrid != 51 {
						return nil
					}
					return cfg
				}
				var m vrrp.Message
				res, err := vrrp.Validate(&m, p.Payload, vrrp.IPHeader{Src: p.Src, Dst: p.Dst, TTL: p.TTL}, lookup)
				if err != nil {
					t.Fatalf("frame %d: Validate: %v", p.Index, err)
				}
				if res.Config != cfg {
					t.Errorf("frame %d: Result.Config %p, want %p", p.Index, res.Config, cfg)
				}
				if res.Form != tc.form[fam] {
					t.Errorf("frame %d: checksum form %v, want %v", p.Index, res.Form, tc.form[fam])
				}
				if res.Warnings != tc.warn[fam] {
					t.Errorf("frame %d: warnings %v, want %v", p.Index, res.Warnings.Errors(), tc.warn[fam].Errors())
				}
				if m.VRID != 51 || m.Family != fam || !sameAddrs(m.Addresses, cfg.Addresses) {
					t.Errorf("frame %d: VRID %d family %v addresses %v", p.Index, m.VRID, m.Family, m.Addresses)
				}
				if m.Priority != 150 && m.Priority != 0 {
					t.Errorf("frame %d: priority %d, want r1's 150 or 0", p.Index, m.Priority)
				}
				// Config-free checks agree on the form (keepalived/FRR default).
				form, err := vrrp.VerifyChecksum(p.Payload[:m.Len()], m.Version, fam, p.Src, p.Dst, vrrp.ChecksumPseudoHeader)
				if err != nil || form != tc.form[fam] {
					t.Errorf("frame %d: VerifyChecksum %v %v", p.Index, form, err)
				}
				// Re-encoding: stored checksum, then computed checksum.
				if len(p.Payload) != m.Len() {
					t.Errorf("frame %d: payload %d bytes, message %d", p.Index, len(p.Payload), m.Len())
				}
				b, err := m.MarshalBinary()
				if err != nil || !bytes.Equal(b, p.Payload) {
					t.Errorf("frame %d: MarshalBinary %v\n got %x\nwant %x", p.Index, err, b, p.Payload)
				}
				stored := m.Checksum
				b, err = m.Encode(nil, p.Src, p.Dst, res.Form)
				if err != nil || !bytes.Equal(b, p.Payload) || m.Checksum != stored {
					t.Errorf("frame %d: Encode(%v) %v\n got %x\nwant %x", p.Index, res.Form, err, b, p.Payload)
				}
				if m.Priority == 0 {
					prio0++
				}
				last[fam] = m.Priority
			}
			if n != tc.vrrp || prio0 != tc.prio0 {
				t.Fatalf("%d VRRP packets (%d with priority 0), want %d (%d)", n, prio0, tc.vrrp, tc.prio0)
			}
			// Both daemons stop with SIGTERM: the Master's last advert of
			// each family resigns [5798-6.4.3-g].
			if len(last) != len(tc.form) {
				t.Errorf("families %v, want %v", last, tc.form)
			}
			for fam, p := range last {
				if p != 0 {
					t.Errorf("last %v advert has priority %d, want 0", fam, p)
				}
			}
		})
	}
}

func sameAddrs(a, b []netip.Addr) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// genCase is a generated advert for the tshark comparison.
type genCase struct {
	m        vrrp.Message
	src, dst netip.Addr
	form     vrrp.ChecksumForm
}

func addrs(fam vrrp.Family, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		if fam == vrrp.IPv4 {
			out[i] = netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)})
		} else {
			b := netip.MustParseAddr("fd77::").As16()
			b[14], b[15] = byte(i>>8), byte(i)
			if i == 0 {
				b = labLL.As16()
			}
			out[i] = netip.AddrFrom16(b)
		}
	}
	return out
}

func genCases(t *testing.T) []genCase {
	src6 := netip.MustParseAddr("fe80::1")
	var cases []genCase
	for i, n := range []int{1, 2, 16, 255} {
		vrid, prio := uint8(1+i*80), uint8([]int{255, 100, 1, 0}[i])
		for _, form := range []vrrp.ChecksumForm{vrrp.ChecksumPseudoHeader, vrrp.ChecksumPlain} {
			m := vrrp.Message{Version: 3, VRID: vrid, Priority: prio, Family: vrrp.IPv4,
				Interval: time.Duration([]int{1, 100, 4095, 250}[i]) * 10 * time.Millisecond, Addresses: addrs(vrrp.IPv4, n)}
			cases = append(cases, genCase{m, labR1, vrrp.MulticastIPv4, form}, genCase{m, labR1, labR2, form})
		}
		cases = append(cases, genCase{vrrp.Message{Version: 3, VRID: vrid, Priority: prio, Family: vrrp.IPv6,
			Interval: time.Duration([]int{1, 100, 4095, 7}[i]) * 10 * time.Millisecond, Addresses: addrs(vrrp.IPv6, n)}, src6, vrrp.MulticastIPv6, vrrp.ChecksumPseudoHeader})
		for _, pw := range []string{"", "secret12", "ab"} {
			m := vrrp.Message{Version: 2, VRID: vrid, Priority: prio, Family: vrrp.IPv4,
				Interval: time.Duration([]int{1, 3, 255, 1}[i]) * time.Second, Addresses: addrs(vrrp.IPv4, n)}
			if pw != "" {
				d, err := vrrp.Password(pw)
				if err != nil {
					t.Fatal(err)
				}
				m.AuthType, m.AuthData = vrrp.AuthPassword, d
			}
			cases = append(cases, genCase{m, labR1, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader})
		}
	}
	return cases
}

// Wireshark's VRRP dissector, an independent decoder, reads our encoding the
// same way and accepts its checksums in both VRRPv3 IPv4 forms.
func TestTsharkAgrees(t *testing.T) {
	tshark := testenv.RequireTool(t, "tshark")
	byForm := map[vrrp.ChecksumForm][]genCase{}
	for _, c := range genCases(t) {
		form := c.form
		if c.m.Version == 2 || c.m.Family == vrrp.IPv6 {
			form = vrrp.ChecksumPseudoHeader // unaffected by the preference
		}
		byForm[form] = append(byForm[form], c)
	}
	for form, cases := range byForm {
		t.Run(form.String(), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "gen.pcap")
			var buf bytes.Buffer
			w, err := pcapfile.NewWriter(&buf, pcapfile.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			for i := range cases {
				c := &cases[i]
				payload, err := c.m.Encode(nil, c.src, c.dst, c.form)
				if err != nil {
					t.Fatal(err)
				}
				frame, err := pcapfile.Frame{SrcMAC: net.HardwareAddr{0, 0, 0x5e, 0, 1, c.m.VRID}, Src: c.src, Dst: c.dst,
					TTL: vrrp.TTL, TOS: 0xc0, Protocol: vrrp.IPProtocol, Payload: payload}.Ethernet()
				if err != nil {
					t.Fatal(err)
				}
				if err := w.WritePacket(time.Unix(1700000000, int64(i)*1000), frame); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			// vrrp.v3_checksum_as_in_v2 TRUE: VRRPv3 IPv4 checksums without
			// the pseudo-header (RFC 9568); FALSE (default): with it.
			asV2 := "FALSE"
			if form == vrrp.ChecksumPlain {
				asV2 = "TRUE"
			}
			args := []string{"-r", file, "-o", "vrrp.v3_checksum_as_in_v2:" + asV2, "-T", "fields",
				"-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
			fields := []string{"vrrp.version", "vrrp.type", "vrrp.virt_rtr_id", "vrrp.prio", "vrrp.addr_count",
				"vrrp.adver_int", "vrrp.short_adver_int", "vrrp.auth_type", "vrrp.auth_string",
				"vrrp.ip_addr", "vrrp.ipv6_addr", "vrrp.checksum", "vrrp.checksum.status", "ip.checksum.status"}
			for _, f := range fields {
				args = append(args, "-e", f)
			}
			cmd := exec.Command(tshark, append(args, "-o", "ip.check_checksum:TRUE")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v\n%s", err, stderr.Bytes())
			}
			lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
			if len(lines) != len(cases) {
				t.Fatalf("tshark printed %d lines for %d packets:\n%s", len(lines), len(cases), out)
			}
			for i, line := range lines {
				c := cases[i]
				got := map[string]string{}
				for j, v := range strings.Split(line, "\t") {
					if j < len(fields) {
						got[fields[j]] = v
					}
				}
				want := map[string]string{
					"vrrp.version":     strconv.Itoa(int(c.m.Version)),
					"vrrp.type":        "1",
					"vrrp.virt_rtr_id": strconv.Itoa(int(c.m.VRID)),
					"vrrp.prio":        strconv.Itoa(int(c.m.Priority)),
					"vrrp.addr_count":  strconv.Itoa(len(c.m.Addresses)),
					"vrrp.checksum":    fmt.Sprintf("0x%04x", c.m.Checksum),
					// Wireshark's proto_checksum_enum_e: 1 is PROTO_CHECKSUM_E_GOOD.
					"vrrp.checksum.status": "1",
				}
				if c.m.Family == vrrp.IPv4 {
					want["ip.checksum.status"] = "1" // our IPv4 header checksum, too
				}
				var as []string
				for _, a := range c.m.Addresses {
					as = append(as, a.String())
				}
				if c.m.Version == 2 {
					want["vrrp.adver_int"] = strconv.Itoa(int(c.m.Interval / time.Second))
					want["vrrp.auth_type"] = strconv.Itoa(int(c.m.AuthType))
					want["vrrp.ip_addr"] = strings.Join(as, ",")
					if c.m.AuthType == vrrp.AuthPassword {
						want["vrrp.auth_string"] = strings.TrimRight(string(c.m.AuthData[:]), "\x00")
					}
				} else {
					want["vrrp.short_adver_int"] = strconv.Itoa(int(c.m.Interval / (10 * time.Millisecond)))
					if c.m.Family == vrrp.IPv4 {
						want["vrrp.ip_addr"] = strings.Join(as, ",")
					} else {
						want["vrrp.ipv6_addr"] = strings.Join(as, ",")
					}
				}
				for _, f := range fields {
					if got[f] != want[f] {
						t.Errorf("packet %d (v%d %v %d addresses, %v to %v): %s = %q, want %q",
							i+1, c.m.Version, c.m.Family, len(c.m.Addresses), c.form, c.dst, f, got[f], want[f])
					}
				}
			}
		})
	}
}
