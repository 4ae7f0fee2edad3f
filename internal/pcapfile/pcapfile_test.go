package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var (
	macA   = net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x01, 0x33}
	v4src  = netip.MustParseAddr("10.77.0.1")
	v4dst  = netip.MustParseAddr("224.0.0.18")
	v6src  = netip.MustParseAddr("fe80::1")
	v6dst  = netip.MustParseAddr("ff02::12")
	vrrpV4 = []byte{0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x42, 0x3f, 0x0a, 0x4d, 0x00, 0xfe}
	t0     = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
)

func mustFrame(t testing.TB, f Frame) []byte {
	t.Helper()
	b, err := f.Ethernet()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The real captures: every frame is read (totals from capinfos) and the
// VRRP ones (counted with tshark -Y 'ip.proto==112 or ipv6.nxt==112') are
// recognised, with their payload cut to the IP length.
func TestRealCaptures(t *testing.T) {
	for _, tc := range []struct {
		file        string
		frames      int
		vrrp        int
		payloadLens map[int]bool
	}{
		{"frr-v2-ipv4.pcap", 15, 5, map[int]bool{20: true}},
		{"frr-v3-dual.pcap", 150, 133, map[int]bool{12: true, 24: true}},
		{"keepalived-v2-ipv4-auth.pcap", 18, 4, map[int]bool{24: true}},
		{"keepalived-v3-ipv4-unicast.pcap", 42, 31, map[int]bool{12: true}},
		{"keepalived-v3-ipv4.pcap", 45, 31, map[int]bool{16: true}},
		{"keepalived-v3-ipv6.pcap", 44, 31, map[int]bool{40: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			pkts, err := ReadFile(filepath.Join("..", "..", "vrrp", "testdata", "captures", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != tc.frames {
				t.Fatalf("read %d frames, want %d", len(pkts), tc.frames)
			}
			n := 0
			for i, p := range pkts {
				if p.Index != i+1 || p.LinkType != LinkTypeEthernet || len(p.SrcMAC) != 6 {
					t.Fatalf("frame %d: index %d link %d mac %v", i+1, p.Index, p.LinkType, p.SrcMAC)
				}
				if p.IPVersion == 0 || p.Protocol != 112 {
					continue
				}
				n++
				if p.Err != nil || p.TTL != 255 || !tc.payloadLens[len(p.Payload)] || p.Time.Year() < 2020 {
					t.Errorf("frame %d: err %v ttl %d payload %d time %v", p.Index, p.Err, p.TTL, len(p.Payload), p.Time)
				}
				if (p.IPVersion == 4) != p.Src.Is4() || (p.IPVersion == 4) != p.Dst.Is4() {
					t.Errorf("frame %d: IPv%d with %v -> %v", p.Index, p.IPVersion, p.Src, p.Dst)
				}
			}
			if n != tc.vrrp {
				t.Fatalf("%d VRRP packets, want %d", n, tc.vrrp)
			}
		})
	}
}

// Our writer's output is read back by us and by gopacket's independent reader.
func TestWriterRoundTrip(t *testing.T) {
	frames := [][]byte{
		mustFrame(t, Frame{SrcMAC: macA, Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4}),
		mustFrame(t, Frame{SrcMAC: macA, Src: v6src, Dst: v6dst, TTL: 255, TOS: 0xc0, Protocol: 112, Payload: make([]byte, 24)}),
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), f); err != nil {
			t.Fatal(err)
		}
	}
	pkts, err := ReadAll(bytes.NewReader(buf.Bytes()))
	if err != nil || len(pkts) != 2 {
		t.Fatalf("ReadAll: %d packets, %v", len(pkts), err)
	}
	p := pkts[0]
	if !p.Time.Equal(t0) || p.IPVersion != 4 || p.Src != v4src || p.Dst != v4dst || p.TTL != 255 ||
		p.Protocol != 112 || !bytes.Equal(p.Payload, vrrpV4) || p.SrcMAC.String() != macA.String() || p.Err != nil {
		t.Errorf("IPv4 packet: %+v", p)
	}
	if ih := p.Data[14:34]; IPv4HeaderChecksum(ih) != 0 {
		t.Errorf("IPv4 header checksum does not verify: %x", ih)
	}
	p = pkts[1]
	if !p.Time.Equal(t0.Add(time.Millisecond)) || p.IPVersion != 6 || p.Src != v6src || p.Dst != v6dst || p.TTL != 255 || len(p.Payload) != 24 {
		t.Errorf("IPv6 packet: %+v", p)
	}
	if got := p.Data[:6]; !bytes.Equal(got, []byte{0x33, 0x33, 0, 0, 0, 0x12}) {
		t.Errorf("IPv6 multicast MAC %x", got)
	}

	r, err := pcapgo.NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		data, ci, err := r.ReadPacketData()
		if err != nil || !bytes.Equal(data, f) || !ci.Timestamp.Equal(t0.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("pcapgo packet %d: %v %v %x", i, err, ci.Timestamp, data)
		}
	}
}

// A pcapng file written by gopacket's NgWriter, with several interfaces of
// different link types, an 802.1Q tag and Ethernet padding.
func TestPcapng(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	ifSLL, _ := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeLinuxSLL})
	ifRaw, _ := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw})

	eth := mustFrame(t, Frame{SrcMAC: macA, Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4})
	padded := append(append([]byte(nil), eth...), make([]byte, 60-len(eth))...) // short frames are padded to 60 bytes
	tagged := append(append(append([]byte(nil), eth[:12]...), 0x81, 0x00, 0x00, 0x07), eth[12:]...)
	ip := eth[14:]
	sll := append([]byte{0, 2, 0, 1, 0, 6, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0, 0, 0x08, 0x00}, ip...)
	for i, f := range []struct {
		iface int
		data  []byte
	}{{0, padded}, {0, tagged}, {ifSLL, sll}, {ifRaw, ip}} {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Nanosecond), CaptureLength: len(f.data), Length: len(f.data), InterfaceIndex: f.iface}
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != "pcapng" {
		t.Errorf("format %q", r.Format())
	}
	wantLinks := []uint32{LinkTypeEthernet, LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeRaw}
	for i, link := range wantLinks {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if p.LinkType != link || !p.Time.Equal(t0.Add(time.Duration(i))) || p.IPVersion != 4 || p.Src != v4src ||
			p.Dst != v4dst || p.TTL != 255 || p.Protocol != 112 || !bytes.Equal(p.Payload, vrrpV4) || p.Err != nil {
			t.Errorf("packet %d: %+v", i, p)
		}
		wantMAC := macA.String()
		if link == LinkTypeRaw {
			wantMAC = ""
		}
		if p.SrcMAC.String() != wantMAC {
			t.Errorf("packet %d: source MAC %q, want %q", i, p.SrcMAC, wantMAC)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last packet: %v, want io.EOF", err)
	}
}

// ngBlock builds a big-endian pcapng block; NgWriter writes little-endian
// only, with nanosecond resolution, and cannot name link types above 255.
func ngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := binary.BigEndian.AppendUint32(nil, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(12+len(body)))
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, uint32(12+len(body)))
}

func bigEndianNg(t testing.TB, ip []byte) []byte {
	shb := ngBlock(ngBlockSHB, []byte{0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	// Interface 0: raw IP, default microsecond resolution, offset 100 s.
	idb := ngBlock(ngBlockIDB, []byte{0, 101, 0, 0, 0, 0, 0, 0, 0, 14, 0, 8, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0})
	// Interface 1: Ethernet, resolution 2^-10.
	idb2 := ngBlock(ngBlockIDB, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0x8a, 0, 0, 0, 0, 0, 0, 0})
	epb := func(id uint32, ts uint64, data []byte) []byte {
		body := binary.BigEndian.AppendUint32(nil, id)
		body = binary.BigEndian.AppendUint32(body, uint32(ts>>32))
		body = binary.BigEndian.AppendUint32(body, uint32(ts))
		body = binary.BigEndian.AppendUint32(body, uint32(len(data)))
		body = binary.BigEndian.AppendUint32(body, uint32(len(data)))
		return ngBlock(ngBlockEPB, append(body, data...))
	}
	// Interface 2: Linux SLL2 (link type 276).
	idb3 := ngBlock(ngBlockIDB, []byte{0x01, 0x14, 0, 0, 0, 0, 0, 0})
	sll2 := append([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 2, 6, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0, 0}, ip...)
	spb := ngBlock(ngBlockSPB, append(binary.BigEndian.AppendUint32(nil, uint32(len(ip))), ip...))
	nrb := ngBlock(4, []byte{0, 0, 0, 0}) // name resolution: skipped
	eth := append([]byte{1, 0, 0x5e, 0, 0, 0x12, 0, 0, 0x5e, 0, 1, 0x33, 8, 0}, ip...)
	var out []byte
	for _, b := range [][]byte{shb, idb, nrb, idb2, idb3, epb(0, 1_500_000, ip), epb(1, 3<<10|512, eth), epb(2, 7_000_001, sll2), spb} {
		out = append(out, b...)
	}
	return out
}

func TestPcapngBigEndianResolutions(t *testing.T) {
	ip := mustFrame(t, Frame{Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4})[14:]
	pkts, err := ReadAll(bytes.NewReader(bigEndianNg(t, ip)))
	if err != nil || len(pkts) != 4 {
		t.Fatalf("%d packets, %v", len(pkts), err)
	}
	want := []time.Time{time.Unix(101, 500_000_000).UTC(), time.Unix(3, 500_000_000).UTC(), time.Unix(7, 1000).UTC(), {}}
	links := []uint32{LinkTypeRaw, LinkTypeEthernet, LinkTypeSLL2, LinkTypeRaw}
	macs := []string{"", "00:00:5e:00:01:33", "00:00:5e:00:01:33", ""}
	for i, p := range pkts {
		if !p.Time.Equal(want[i]) || p.LinkType != links[i] || p.SrcMAC.String() != macs[i] || !bytes.Equal(p.Payload, vrrpV4) || p.Src != v4src {
			t.Errorf("packet %d: time %v link %d mac %v payload %x src %v", i, p.Time, p.LinkType, p.SrcMAC, p.Payload, p.Src)
		}
	}
}

func ipv6Packet(next uint8, ext, upper []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:6], uint16(len(ext)+len(upper)))
	h[6], h[7] = next, 255
	copy(h[8:24], v6src.AsSlice())
	copy(h[24:40], v6dst.AsSlice())
	return append(append(h, ext...), upper...)
}

func parseRaw(b []byte) Packet {
	p := Packet{LinkType: LinkTypeRaw, Data: b}
	p.parse()
	return p
}

func TestIPParsing(t *testing.T) {
	upper := bytes.Repeat([]byte{0xab}, 24)
	hbh := []byte{60, 0, 1, 4, 0, 0, 0, 0}                          // Hop-by-Hop -> Destination options, PadN
	dst := []byte{44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // Destination (16 bytes) -> Fragment
	atomic := []byte{112, 0, 0, 0, 0, 0, 0, 1}                      // offset 0, M=0: an atomic fragment
	real := []byte{112, 0, 0, 1, 0, 0, 0, 1}                        // M=1
	ah := []byte{112, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	v4 := mustFrame(t, Frame{Src: v4src, Dst: v4dst, TTL: 254, Protocol: 112, Payload: vrrpV4})[14:]
	v4frag := append([]byte(nil), v4...)
	v4frag[6] = 0x20 // MF
	v4opts := append([]byte{0x46, 0, 0, 36}, v4[4:20]...)
	v4opts = append(append(v4opts, 1, 1, 1, 0), vrrpV4...) // IHL 6: a 4-byte option
	for _, tc := range []struct {
		name    string
		data    []byte
		ver     int
		proto   uint8
		payload []byte
		err     error
	}{
		{"ipv4", v4, 4, 112, vrrpV4, nil},
		{"ipv4 options", v4opts, 4, 112, vrrpV4, nil},
		{"ipv4 padded", append(append([]byte(nil), v4...), 0, 0, 0, 0), 4, 112, vrrpV4, nil},
		{"ipv4 truncated payload", v4[:len(v4)-2], 4, 112, vrrpV4[:len(vrrpV4)-2], ErrPayloadTruncated},
		{"ipv4 fragment", v4frag, 4, 112, vrrpV4, ErrFragment},
		{"ipv4 short header", v4[:19], 4, 0, nil, ErrShortFrame},
		{"ipv4 bad IHL", append([]byte{0x44}, v4[1:]...), 4, 112, nil, ErrIPHeader},
		{"ipv4 length below IHL", append([]byte{0x45, 0, 0, 10}, v4[4:]...), 4, 112, nil, ErrIPHeader},
		{"ipv6", ipv6Packet(112, nil, upper), 6, 112, upper, nil},
		{"ipv6 padded", append(ipv6Packet(112, nil, upper), 0, 0), 6, 112, upper, nil},
		{"ipv6 ext headers", ipv6Packet(0, append(append(hbh, dst...), atomic...), upper), 6, 112, upper, nil},
		{"ipv6 AH", ipv6Packet(51, ah, upper), 6, 112, upper, nil},
		{"ipv6 fragment", ipv6Packet(44, real, upper), 6, 112, upper, ErrFragment},
		{"ipv6 cut ext header", ipv6Packet(0, hbh[:4], nil), 6, 0, hbh[:4], ErrExtensionHeader},
		{"ipv6 ext header too long", ipv6Packet(0, []byte{112, 9, 0, 0, 0, 0, 0, 0}, nil), 6, 0, []byte{112, 9, 0, 0, 0, 0, 0, 0}, ErrExtensionHeader},
		{"ipv6 truncated", ipv6Packet(112, nil, upper)[:50], 6, 112, upper[:10], ErrPayloadTruncated},
		{"ipv6 ESP", ipv6Packet(50, nil, upper), 6, 50, upper, ErrExtensionHeader},
		{"ipv6 short", ipv6Packet(112, nil, nil)[:39], 6, 0, nil, ErrShortFrame},
		{"not IP", []byte{0x12, 0x34}, 0, 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parseRaw(tc.data)
			if p.IPVersion != tc.ver || p.Protocol != tc.proto || !bytes.Equal(p.Payload, tc.payload) || !errors.Is(p.Err, tc.err) {
				t.Fatalf("got IPv%d proto %d payload %x err %v; want IPv%d proto %d payload %x err %v",
					p.IPVersion, p.Protocol, p.Payload, p.Err, tc.ver, tc.proto, tc.payload, tc.err)
			}
			if tc.ver == 4 && tc.err != ErrShortFrame && (p.Src != v4src || p.Dst != v4dst || p.TTL != 254) {
				t.Fatalf("IPv4 header fields: %v %v %d", p.Src, p.Dst, p.TTL)
			}
			if tc.ver == 6 && tc.err != ErrShortFrame && (p.Src != v6src || p.Dst != v6dst || p.TTL != 255) {
				t.Fatalf("IPv6 header fields: %v %v %d", p.Src, p.Dst, p.TTL)
			}
		})
	}
}

func TestLinkLayers(t *testing.T) {
	eth := mustFrame(t, Frame{SrcMAC: macA, Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4})
	qinq := append(append(append([]byte(nil), eth[:12]...), 0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2), eth[12:]...)
	arp := append(append([]byte(nil), eth[:12]...), 0x08, 0x06, 0, 1)
	for _, tc := range []struct {
		name string
		link uint32
		data []byte
		ver  int
		mac  string
		err  error
	}{
		{"QinQ", LinkTypeEthernet, qinq, 4, macA.String(), nil},
		{"ARP", LinkTypeEthernet, arp, 0, macA.String(), nil},
		{"short Ethernet", LinkTypeEthernet, eth[:13], 0, "", ErrShortFrame},
		{"cut VLAN tag", LinkTypeEthernet, append(append([]byte(nil), eth[:12]...), 0x81, 0, 0), 0, macA.String(), ErrShortFrame},
		{"SLL non-Ethernet", LinkTypeLinuxSLL, append([]byte{0, 0, 3, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd}, ipv6Packet(112, nil, nil)...), 6, "", nil},
		{"short SLL", LinkTypeLinuxSLL, make([]byte, 15), 0, "", ErrShortFrame},
		{"short SLL2", LinkTypeSLL2, make([]byte, 19), 0, "", ErrShortFrame},
		{"IPv6 link type", LinkTypeIPv6, ipv6Packet(112, nil, nil), 6, "", nil},
		{"IPv4 link type", LinkTypeIPv4, eth[14:], 4, "", nil},
		{"empty raw", LinkTypeRaw, nil, 0, "", ErrShortFrame},
		{"unknown link type", 147, eth, 0, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Packet{LinkType: tc.link, Data: tc.data}
			p.parse()
			if p.IPVersion != tc.ver || p.SrcMAC.String() != tc.mac || !errors.Is(p.Err, tc.err) {
				t.Fatalf("IPv%d mac %q err %v; want IPv%d mac %q err %v", p.IPVersion, p.SrcMAC, p.Err, tc.ver, tc.mac, tc.err)
			}
		})
	}
}

func TestPcapVariants(t *testing.T) {
	frame := mustFrame(t, Frame{SrcMAC: macA, Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4})
	// Big-endian, microsecond pcap with an FCS annotation in the link type.
	h := []byte{0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x14, 0, 0, 1}
	rec := binary.BigEndian.AppendUint32(nil, 1000)
	rec = binary.BigEndian.AppendUint32(rec, 250)
	rec = binary.BigEndian.AppendUint32(rec, uint32(len(frame)))
	rec = binary.BigEndian.AppendUint32(rec, uint32(len(frame)+4))
	file := append(append(h, rec...), frame...)
	pkts, err := ReadAll(bytes.NewReader(file))
	if err != nil || len(pkts) != 1 {
		t.Fatalf("%d packets, %v", len(pkts), err)
	}
	if p := pkts[0]; p.LinkType != LinkTypeEthernet || !p.Time.Equal(time.Unix(1000, 250_000)) || p.Length != len(frame)+4 || !bytes.Equal(p.Payload, vrrpV4) {
		t.Errorf("%+v", p)
	}
	// A file cut inside the second record keeps the first packet.
	cut := append(append([]byte(nil), file...), rec...)
	cut = append(cut, frame[:5]...)
	pkts, err = ReadAll(bytes.NewReader(cut))
	if len(pkts) != 1 || !errors.Is(err, ErrTruncatedFile) {
		t.Errorf("cut file: %d packets, %v", len(pkts), err)
	}
	// A record header claiming 1 GiB is refused without allocating it.
	huge := append(append([]byte(nil), h...), rec[:8]...)
	huge = binary.BigEndian.AppendUint32(huge, 1<<30)
	huge = binary.BigEndian.AppendUint32(huge, 1<<30)
	if _, err := ReadAll(bytes.NewReader(huge)); !errors.Is(err, ErrMalformedFile) {
		t.Errorf("huge record: %v", err)
	}
	// A record of 100 KiB (beyond the small-read path) whose data is missing.
	big := append(append([]byte(nil), h...), rec[:8]...)
	big = binary.BigEndian.AppendUint32(big, 100<<10)
	big = binary.BigEndian.AppendUint32(big, 100<<10)
	if _, err := ReadAll(bytes.NewReader(append(big, 1, 2, 3))); !errors.Is(err, ErrTruncatedFile) {
		t.Errorf("big cut record: %v", err)
	}
}

func TestNotCapture(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("this is not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"text":            []byte("this is not a capture\n"),
		"empty":           nil,
		"3 bytes":         {0xd4, 0xc3, 0xb2},
		"pcap header cut": {0xd4, 0xc3, 0xb2, 0xa1, 2, 0},
		"pcap version 9":  {0xd4, 0xc3, 0xb2, 0xa1, 9, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0},
		"modified pcap":   {0x34, 0xcd, 0xb2, 0xa1, 2, 0, 4, 0},
		"pcapng bad BOM":  {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 1, 2, 3, 4},
		"pcapng cut":      {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1},
	} {
		if _, err := ReadAll(bytes.NewReader(in)); !errors.Is(err, ErrNotCapture) {
			t.Errorf("%s: %v, want ErrNotCapture", name, err)
		}
	}
	_, err := ReadFile(text)
	if !errors.Is(err, ErrNotCapture) || !bytes.Contains([]byte(err.Error()), []byte("notes.txt")) {
		t.Errorf("ReadFile: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// validSamples returns small well-formed captures of each format: the seeds
// of the malformed-input tests.
func validSamples(t testing.TB) [][]byte {
	frame := mustFrame(t, Frame{SrcMAC: macA, Src: v4src, Dst: v4dst, TTL: 255, Protocol: 112, Payload: vrrpV4})
	var p bytes.Buffer
	w, _ := NewWriter(&p, LinkTypeEthernet)
	_ = w.WritePacket(t0, frame)
	_ = w.WritePacket(t0, mustFrame(t, Frame{Src: v6src, Dst: v6dst, TTL: 255, Protocol: 112, Payload: make([]byte, 40)}))
	var ng bytes.Buffer
	nw, _ := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	_ = nw.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(frame), Length: len(frame)}, frame)
	_ = nw.Flush()
	return [][]byte{p.Bytes(), ng.Bytes(), bigEndianNg(t, frame[14:])}
}

// Every truncation and every single-byte corruption of valid captures must
// give packets or an error, never a panic.
func TestMalformedNoPanic(t *testing.T) {
	for _, s := range validSamples(t) {
		for i := range s {
			_, _ = ReadAll(bytes.NewReader(s[:i]))
			for _, v := range []byte{0x00, 0xff, 0x80, s[i] ^ 0x01} {
				c := append([]byte(nil), s...)
				c[i] = v
				readAllChecked(t, c)
			}
		}
	}
}

// readAllChecked reads data and checks the invariants every packet keeps.
func readAllChecked(t testing.TB, data []byte) {
	pkts, _ := ReadAll(bytes.NewReader(data))
	for _, p := range pkts {
		if len(p.Data) > len(data) {
			t.Fatalf("packet of %d bytes from %d bytes of input", len(p.Data), len(data))
		}
		if p.IPVersion != 0 && p.IPVersion != 4 && p.IPVersion != 6 {
			t.Fatalf("IP version %d", p.IPVersion)
		}
		if p.Payload != nil && len(p.Payload) > len(p.Data) {
			t.Fatalf("payload longer than the frame")
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range validSamples(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		readAllChecked(t, data)
	})
}
