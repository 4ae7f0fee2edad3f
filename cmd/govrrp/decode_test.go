package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"govrrp/internal/pcapfile"
	"govrrp/vrrp"
)

func captures(name string) string {
	return filepath.Join("..", "..", "vrrp", "testdata", "captures", name)
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// record mirrors the JSON fields, with pointers where absence matters.
type record struct {
	Frame            int      `json:"frame"`
	Time             string   `json:"time"`
	Src              string   `json:"src"`
	Dst              string   `json:"dst"`
	TTL              int      `json:"ttl"`
	Version          *int     `json:"version"`
	Type             *int     `json:"type"`
	VRID             *int     `json:"vrid"`
	Priority         *int     `json:"priority"`
	Count            *int     `json:"count"`
	AdvertIntervalMS *int     `json:"advert_interval_ms"`
	AuthType         string   `json:"auth_type"`
	Addresses        []string `json:"addresses"`
	Checksum         string   `json:"checksum"`
	ChecksumForm     string   `json:"checksum_form"`
	Error            string   `json:"error"`
	ErrorReason      string   `json:"error_reason"`
	Warnings         []string `json:"warnings"`
}

func decodeLines(t *testing.T, out string) []record {
	t.Helper()
	var recs []record
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r record
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

var timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`)

func TestDecodeCaptures(t *testing.T) {
	for _, tc := range []struct {
		file      string
		n         int
		version   int
		src, dst  string
		interval  int
		auth      string
		addresses string
		form      string
	}{
		{"keepalived-v2-ipv4-auth.pcap", 4, 2, "10.77.0.1", "224.0.0.18", 1000, "pass", "10.77.0.254,10.77.0.253", "plain"},
		{"keepalived-v3-ipv4.pcap", 31, 3, "10.77.0.1", "224.0.0.18", 100, "", "10.77.0.254,10.77.0.253", "pseudo-header"},
		{"keepalived-v3-ipv6.pcap", 31, 3, "fe80::909c:bfff:fe6a:8f56", "ff02::12", 100, "", "fe80::51,fd77::254", "pseudo-header"},
		{"keepalived-v3-ipv4-unicast.pcap", 31, 3, "10.77.0.1", "10.77.0.2", 100, "", "10.77.0.254", "pseudo-header"},
		{"frr-v2-ipv4.pcap", 5, 2, "10.77.0.1", "224.0.0.18", 1000, "none", "10.77.0.254", "plain"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			code, out, errOut := runCmd("decode", captures(tc.file))
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			recs := decodeLines(t, out)
			if len(recs) != tc.n {
				t.Fatalf("%d lines, want %d", len(recs), tc.n)
			}
			for i, r := range recs {
				wantPrio := 150
				if i == len(recs)-1 {
					wantPrio = 0 // SIGTERM at the end of every capture
				}
				if !timeRE.MatchString(r.Time) || r.Src != tc.src || r.Dst != tc.dst || r.TTL != 255 ||
					*r.Version != tc.version || *r.Type != 1 || *r.VRID != 51 || *r.Priority != wantPrio ||
					*r.AdvertIntervalMS != tc.interval || r.AuthType != tc.auth || strings.Join(r.Addresses, ",") != tc.addresses ||
					*r.Count != len(r.Addresses) || r.Checksum != "ok" || r.ChecksumForm != tc.form ||
					r.Error != "" || r.ErrorReason != "" || r.Warnings != nil {
					t.Fatalf("line %d: %+v", i+1, r)
				}
			}
		})
	}
}

func TestDecodeFRRDual(t *testing.T) {
	code, out, _ := runCmd("decode", captures("frr-v3-dual.pcap"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	n4, n6 := 0, 0
	for _, r := range decodeLines(t, out) {
		switch r.Dst {
		case "224.0.0.18":
			n4++
			if r.Warnings != nil || strings.Join(r.Addresses, ",") != "10.77.0.254" {
				t.Errorf("IPv4 line: %+v", r)
			}
		case "ff02::12":
			n6++
			// FRR lists no link-local address: kept, with a warning [IMPL-8].
			if r.Src != "fe80::200:5eff:fe00:233" || strings.Join(r.Warnings, ",") != "first_not_link_local" || r.Error != "" {
				t.Errorf("IPv6 line: %+v", r)
			}
		default:
			t.Errorf("unexpected line %+v", r)
		}
	}
	if n4+n6 != 133 || n4 == 0 || n6 == 0 {
		t.Errorf("%d IPv4 and %d IPv6 adverts", n4, n6)
	}
}

// writeCapture writes Ethernet frames to a pcap file in a temporary dir.
func writeCapture(t *testing.T, frames ...[]byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, pcapfile.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(time.Unix(1700000000, 0).Add(time.Duration(i)*time.Second), f); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Join(t.TempDir(), "test.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestDecodeBadPackets(t *testing.T) {
	r1, r2 := netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("10.77.0.2")
	m := vrrp.Message{Version: 3, VRID: 7, Priority: 100, Family: vrrp.IPv4, Interval: time.Second,
		Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")}}
	good, err := m.Encode(nil, r1, vrrp.MulticastIPv4, vrrp.ChecksumPlain)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(ttl, proto uint8, payload []byte) []byte {
		b, err := pcapfile.Frame{Src: r1, Dst: vrrp.MulticastIPv4, TTL: ttl, Protocol: proto, Payload: payload}.Ethernet()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	badSum := append([]byte(nil), good...)
	badSum[7] ^= 0xff
	v4 := append([]byte(nil), good...)
	v4[0] = 0x41
	short := append([]byte(nil), good...)
	short[3] = 2 // two addresses announced, one present
	mz := m
	mz.Interval = 0
	zeroInt, err := mz.Encode(nil, r1, vrrp.MulticastIPv4, vrrp.ChecksumPlain)
	if err != nil {
		t.Fatal(err)
	}
	cut := frame(255, 112, good)
	cut = cut[:len(cut)-2] // the capture lost the end of the datagram
	udp, _ := pcapfile.Frame{Src: r1, Dst: r2, TTL: 64, Protocol: 17, Payload: []byte{1, 2, 3, 4, 5, 6, 7, 8}}.Ethernet()
	name := writeCapture(t, frame(255, 112, good), frame(64, 112, good), udp, frame(255, 112, badSum),
		frame(255, 112, v4), frame(255, 112, short), frame(255, 112, zeroInt), cut, frame(255, 112, good[:5]))
	code, out, errOut := runCmd("decode", name)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	recs := decodeLines(t, out)
	wantReasons := []string{"", "ttl", "checksum", "version", "truncated", "zero_interval", "capture_truncated", "truncated"}
	if len(recs) != len(wantReasons) {
		t.Fatalf("%d lines, want %d (the UDP packet skipped):\n%s", len(recs), len(wantReasons), out)
	}
	for i, r := range recs {
		if r.ErrorReason != wantReasons[i] || (r.ErrorReason != "") != (r.Error != "") {
			t.Errorf("line %d: reason %q error %q, want reason %q", i+1, r.ErrorReason, r.Error, wantReasons[i])
		}
		if r.Src != "10.77.0.1" || r.Dst != "224.0.0.18" || !timeRE.MatchString(r.Time) {
			t.Errorf("line %d: IP fields %+v", i+1, r)
		}
	}
	if recs[0].ChecksumForm != "plain" || recs[0].Frame != 1 || recs[2].Frame != 4 {
		t.Errorf("good line %+v, frame of the third %d", recs[0], recs[2].Frame)
	}
	// A TTL failure still shows the decoded advert and its checksum.
	if r := recs[1]; r.TTL != 64 || r.VRID == nil || *r.VRID != 7 || r.Checksum != "ok" {
		t.Errorf("ttl line %+v", r)
	}
	// A bad VRRPv3 IPv4 checksum matches no form: the form is left out.
	if r := recs[2]; r.Checksum != "bad" || r.ChecksumForm != "" || *r.Priority != 100 {
		t.Errorf("checksum line %+v", r)
	}
	// Lines for packets the codec could not decode carry no message fields.
	for _, i := range []int{3, 4, 7} {
		if r := recs[i]; r.Version != nil || r.Addresses != nil || r.Checksum != "" {
			t.Errorf("line %d: %+v", i+1, r)
		}
	}
	if r := recs[5]; *r.AdvertIntervalMS != 0 || r.Checksum != "ok" {
		t.Errorf("zero interval line %+v", r)
	}
}

func TestDecodeSummary(t *testing.T) {
	for _, args := range [][]string{
		{"decode", "--summary", captures("keepalived-v3-ipv4.pcap")},
		{"decode", captures("keepalived-v3-ipv4.pcap"), "-summary"},
	} {
		code, out, errOut := runCmd(args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 32 {
			t.Fatalf("%d lines, want a header and 31 rows", len(lines))
		}
		if f := strings.Fields(lines[0]); f[0] != "TIME" || f[len(f)-1] != "STATUS" {
			t.Errorf("header %q", lines[0])
		}
		// tshark's frame.time_relative of the first advert (frame 2).
		want := "0.643300  10.77.0.1 → 224.0.0.18  3  51    150   100ms     10.77.0.254,10.77.0.253  pseudo-header  ok"
		if lines[1] != want {
			t.Errorf("first row\n got %q\nwant %q", lines[1], want)
		}
		col := strings.Index(lines[0], "CHECKSUM")
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l[col:], "pseudo-header") {
				t.Errorf("misaligned row %q", l)
			}
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, "  0  ") {
			t.Errorf("last row should resign with priority 0: %q", last)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"decode", text}, 2, "not a pcap or pcapng capture file"},
		{[]string{"decode", filepath.Join(dir, "missing.pcap")}, 2, "no such file"},
		{[]string{"decode"}, 2, "need exactly one capture file"},
		{[]string{"decode", "a", "b"}, 2, "need exactly one capture file"},
		{[]string{"decode", "--bogus", text}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{nil, 2, "Commands:"},
		{[]string{"version", "x"}, 2, "Usage: govrrp version"},
		{[]string{"help", "nope"}, 2, "unknown command"},
	} {
		code, out, errOut := runCmd(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.msg)
		}
	}
	// A capture cut inside its last frame (an ARP after the 31 adverts):
	// every advert, then exit 1.
	name := writeCapture(t, mustRead(t, captures("keepalived-v3-ipv4.pcap"))...)
	b, _ := os.ReadFile(name)
	if err := os.WriteFile(name, b[:len(b)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("decode", name)
	if code != 1 || strings.Count(out, "\n") != 31 || !strings.Contains(errOut, "cut short") {
		t.Errorf("cut capture: exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errOut)
	}
}

func mustRead(t *testing.T, name string) [][]byte {
	pkts, err := pcapfile.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for _, p := range pkts {
		frames = append(frames, p.Data)
	}
	return frames
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCmd("help")
	if code != 0 || !strings.Contains(out, "decode") || !strings.Contains(out, "version") {
		t.Errorf("help: %d %q", code, out)
	}
	code, out, _ = runCmd("help", "decode")
	if code != 0 || !strings.Contains(out, "--summary") {
		t.Errorf("help decode: %d %q", code, out)
	}
	code, out, _ = runCmd("decode", "-h")
	if code != 0 {
		t.Errorf("decode -h: %d %q", code, out)
	}
	code, out, _ = runCmd("version")
	if code != 0 || !strings.HasPrefix(out, "govrrp ") {
		t.Errorf("version: %d %q", code, out)
	}
}
