package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Classic pcap magic numbers, as read in the file's own byte order.
const (
	magicMicro    = 0xa1b2c3d4
	magicNano     = 0xa1b23c4d
	magicModified = 0xa1b2cd34
)

func isPcapMagic(m uint32) bool { return m == magicMicro || m == magicNano }

type pcapReader struct {
	r     io.Reader
	order binary.ByteOrder
	nano  bool
	link  uint32
	hdr   [16]byte
}

func newPcapReader(r io.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: pcap file header cut short", ErrNotCapture)
	}
	p := &pcapReader{r: r, order: binary.LittleEndian}
	m := binary.LittleEndian.Uint32(h[:4])
	if !isPcapMagic(m) {
		p.order = binary.BigEndian
		m = binary.BigEndian.Uint32(h[:4])
	}
	p.nano = m == magicNano
	if major := p.order.Uint16(h[4:6]); major != 2 {
		return nil, fmt.Errorf("%w: pcap version %d.%d", ErrNotCapture, major, p.order.Uint16(h[6:8]))
	}
	// Only the low 16 bits are the link type; the upper ones carry FCS
	// information (draft-ietf-opsawg-pcap §5.1). An FCS at the end of the
	// frame is harmless: the IP payload is cut to the IP length.
	p.link = p.order.Uint32(h[20:24]) & 0xffff
	return p, nil
}

func (p *pcapReader) next() ([]byte, uint32, time.Time, int, error) {
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, 0, time.Time{}, 0, io.EOF
		}
		return nil, 0, time.Time{}, 0, fmt.Errorf("%w: packet record header", ErrTruncatedFile)
	}
	sec, frac := p.order.Uint32(p.hdr[0:4]), p.order.Uint32(p.hdr[4:8])
	incl, orig := p.order.Uint32(p.hdr[8:12]), p.order.Uint32(p.hdr[12:16])
	if incl > maxRecord {
		return nil, 0, time.Time{}, 0, fmt.Errorf("%w: record claims %d bytes", ErrMalformedFile, incl)
	}
	data, err := readFull(p.r, int(incl))
	if err != nil {
		return nil, 0, time.Time{}, 0, fmt.Errorf("%w: packet data", err)
	}
	ns := int64(frac)
	if !p.nano {
		ns *= 1000
	}
	return data, p.link, time.Unix(int64(sec), ns).UTC(), int(orig), nil
}

// Writer writes a classic pcap file with nanosecond timestamps, which tshark,
// tcpdump and Wireshark all read.
type Writer struct {
	w    io.Writer
	snap uint32
}

// NewWriter writes the file header for linkType to w.
func NewWriter(w io.Writer, linkType uint32) (*Writer, error) {
	const snap = 262144
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:4], magicNano)
	binary.LittleEndian.PutUint16(h[4:6], 2)
	binary.LittleEndian.PutUint16(h[6:8], 4)
	binary.LittleEndian.PutUint32(h[16:20], snap)
	binary.LittleEndian.PutUint32(h[20:24], linkType)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, snap: snap}, nil
}

// WritePacket writes one frame captured at ts.
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if len(data) > int(w.snap) {
		return fmt.Errorf("pcapfile: frame of %d bytes exceeds the snap length %d", len(data), w.snap)
	}
	if ts.Unix() < 0 || ts.Unix() > 1<<32-1 {
		return fmt.Errorf("pcapfile: timestamp %v outside the pcap range", ts)
	}
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:8], uint32(ts.Nanosecond()))
	binary.LittleEndian.PutUint32(h[8:12], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:16], uint32(len(data)))
	if _, err := w.w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}
