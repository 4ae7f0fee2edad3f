// Package pcapfile reads packet captures (classic pcap and pcapng) and writes
// classic pcap, in pure Go, and extracts from each frame the IP facts a VRRP
// receiver sees: addresses, TTL or hop limit, protocol and the IP payload.
//
// The readers are written here rather than taken from gopacket/pcapgo because
// pcapgo trusts length fields (it allocates whatever a record claims and
// slices option values without checking their size), so a damaged file can
// make it panic or exhaust memory; this package must survive any input. It
// does not import govrrp/vrrp: the vrrp tests read their captures with it.
package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

// Link-layer header types (https://www.tcpdump.org/linktypes.html).
const (
	LinkTypeEthernet = 1
	LinkTypeRaw      = 101 // raw IPv4 or IPv6
	LinkTypeRawDLT12 = 12  // DLT_RAW as some systems write it
	LinkTypeRawDLT14 = 14  // DLT_RAW on OpenBSD
	LinkTypeLinuxSLL = 113
	LinkTypeIPv4     = 228
	LinkTypeIPv6     = 229
	LinkTypeSLL2     = 276
)

var (
	// ErrNotCapture: the input does not start like a pcap or pcapng file.
	ErrNotCapture = errors.New("pcapfile: not a pcap or pcapng capture file")
	// ErrTruncatedFile: the file ends in the middle of a header or record.
	ErrTruncatedFile = errors.New("pcapfile: capture file cut short")
	// ErrMalformedFile: a header or record is inconsistent.
	ErrMalformedFile = errors.New("pcapfile: malformed capture file")
)

// Errors in Packet.Err: the frame was read but its IP header is unusable or
// incomplete. The IP fields set before the problem was found stay valid.
var (
	// ErrShortFrame: the frame ends inside the link-layer or IP header.
	ErrShortFrame = errors.New("pcapfile: frame too short for its headers")
	// ErrIPHeader: the IP header is inconsistent (IHL, length fields).
	ErrIPHeader = errors.New("pcapfile: malformed IP header")
	// ErrPayloadTruncated: the capture holds less of the IP payload than the
	// IP header announces (snap length, or a cut frame). Payload has the part
	// that was captured.
	ErrPayloadTruncated = errors.New("pcapfile: IP payload truncated in the capture")
	// ErrFragment: a fragment other than a complete datagram; Payload is
	// this fragment's data, not an upper-layer message.
	ErrFragment = errors.New("pcapfile: IP fragment")
	// ErrExtensionHeader: an IPv6 extension header is cut or cannot be
	// walked (ESP); Protocol is the header where the walk stopped.
	ErrExtensionHeader = errors.New("pcapfile: cannot walk IPv6 extension headers")
)

// maxRecord bounds one record or block. Real snap lengths are at most
// 256 KiB; anything far larger is a damaged length field, not a packet.
const maxRecord = 16 << 20

// Packet is one captured frame and what could be read from its headers.
type Packet struct {
	Index    int       // 1-based frame number, as tshark counts
	Time     time.Time // capture timestamp, UTC
	LinkType uint32
	Data     []byte // the frame as captured
	Length   int    // original length on the wire

	SrcMAC net.HardwareAddr // Ethernet (or SLL) source; nil when absent

	IPVersion int // 4 or 6; 0 when the frame is not IP
	Src, Dst  netip.Addr
	TTL       uint8 // TTL or hop limit
	// Protocol is the IPv4 protocol or, for IPv6, the next header after the
	// standard extension headers.
	Protocol uint8
	// Payload is the upper-layer message, cut to the length the IP header
	// gives, so link-layer padding is not part of it. It aliases Data.
	Payload []byte
	// Err says why the IP fields are incomplete; nil for a whole datagram.
	Err error
}

// Reader reads packets from a pcap or pcapng stream.
type Reader struct {
	src    recordReader
	format string
	n      int
}

type recordReader interface {
	// next returns the next frame's data, link type, timestamp and original
	// length, or io.EOF at a clean end.
	next() (data []byte, link uint32, ts time.Time, origLen int, err error)
}

// NewReader detects the format from the first bytes of r. Input that is not
// a capture gives an error wrapping ErrNotCapture.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if len(magic) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrNotCapture)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: only %d bytes", ErrNotCapture, len(magic))
	}
	le, be := binary.LittleEndian.Uint32(magic), binary.BigEndian.Uint32(magic)
	switch {
	case be == ngBlockSHB:
		rr, err := newNgReader(br)
		if err != nil {
			return nil, err
		}
		return &Reader{src: rr, format: "pcapng"}, nil
	case isPcapMagic(le) || isPcapMagic(be):
		rr, err := newPcapReader(br)
		if err != nil {
			return nil, err
		}
		return &Reader{src: rr, format: "pcap"}, nil
	case le == magicModified || be == magicModified:
		return nil, fmt.Errorf("%w: modified (Kuznetzov) pcap is not supported; convert it with editcap", ErrNotCapture)
	}
	return nil, fmt.Errorf("%w (starts with %#08x)", ErrNotCapture, be)
}

// Format is "pcap" or "pcapng".
func (r *Reader) Format() string { return r.format }

// Next returns the next packet, or io.EOF after the last one. A damaged or
// cut file gives an error wrapping ErrMalformedFile or ErrTruncatedFile;
// problems inside a frame are in Packet.Err instead.
func (r *Reader) Next() (Packet, error) {
	data, link, ts, orig, err := r.src.next()
	if err != nil {
		return Packet{}, err
	}
	r.n++
	p := Packet{Index: r.n, Time: ts, LinkType: link, Data: data, Length: orig}
	p.parse()
	return p, nil
}

// ReadAll reads every packet of r. On a damaged file it returns the packets
// read before the damage together with the error.
func ReadAll(r io.Reader) ([]Packet, error) {
	pr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	var out []Packet
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

// ReadFile reads every packet of the named capture file.
func ReadFile(name string) ([]Packet, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkts, err := ReadAll(f)
	if err != nil {
		return pkts, fmt.Errorf("%s: %w", name, err)
	}
	return pkts, nil
}

// readFull reads n bytes. The buffer grows with the data actually read, so
// a huge length in a damaged file costs an error, not the memory it claims.
func readFull(r io.Reader, n int) ([]byte, error) {
	if n <= 64<<10 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, eofIsTruncation(err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, err
	}
	if len(b) < n {
		return nil, ErrTruncatedFile
	}
	return b, nil
}

// eofIsTruncation maps an end of input inside a structure to ErrTruncatedFile.
func eofIsTruncation(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTruncatedFile
	}
	return err
}
