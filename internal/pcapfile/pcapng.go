package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// pcapng block types (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html §4).
const (
	ngBlockSHB       = 0x0a0d0d0a // Section Header; same in both byte orders
	ngBlockIDB       = 1          // Interface Description
	ngBlockPB        = 2          // Packet (obsolete)
	ngBlockSPB       = 3          // Simple Packet
	ngBlockEPB       = 6          // Enhanced Packet
	ngByteOrderMagic = 0x1a2b3c4d

	ngOptEnd      = 0
	ngOptTSResol  = 9
	ngOptTSOffset = 14
)

type ngIface struct {
	link        uint32
	snap        uint32
	unitsPerSec uint64
	offset      int64 // seconds added to every timestamp
}

type ngReader struct {
	r      io.Reader
	order  binary.ByteOrder
	ifaces []ngIface
}

func newNgReader(r io.Reader) (*ngReader, error) {
	n := &ngReader{r: r}
	typ, body, err := n.readBlock()
	if err != nil || typ != ngBlockSHB {
		return nil, fmt.Errorf("%w: bad pcapng section header (%v)", ErrNotCapture, err)
	}
	if err := n.section(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
	}
	return n, nil
}

// readBlock reads one block and returns its type and body (without the type,
// length and trailing length words; for a section header, without the byte
// order magic, which it applies).
func (n *ngReader) readBlock() (uint32, []byte, error) {
	var h [12]byte
	if _, err := io.ReadFull(n.r, h[:8]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("%w: block header", ErrTruncatedFile)
	}
	typ := binary.BigEndian.Uint32(h[:4])
	skip := 0
	if typ == ngBlockSHB {
		// A section header sets the byte order of everything up to the next.
		if _, err := io.ReadFull(n.r, h[8:12]); err != nil {
			return 0, nil, fmt.Errorf("%w: section header", ErrTruncatedFile)
		}
		switch {
		case binary.BigEndian.Uint32(h[8:12]) == ngByteOrderMagic:
			n.order = binary.BigEndian
		case binary.LittleEndian.Uint32(h[8:12]) == ngByteOrderMagic:
			n.order = binary.LittleEndian
		default:
			return 0, nil, fmt.Errorf("%w: bad byte-order magic", ErrMalformedFile)
		}
		skip = 4
	}
	if n.order == nil {
		return 0, nil, fmt.Errorf("%w: block before the first section header", ErrMalformedFile)
	}
	typ = n.order.Uint32(h[:4])
	total := n.order.Uint32(h[4:8])
	if total < uint32(12+skip) || total%4 != 0 || total > maxRecord {
		return 0, nil, fmt.Errorf("%w: block length %d", ErrMalformedFile, total)
	}
	rest, err := readFull(n.r, int(total)-8-skip)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: block body", err)
	}
	if n.order.Uint32(rest[len(rest)-4:]) != total {
		return 0, nil, fmt.Errorf("%w: block lengths disagree", ErrMalformedFile)
	}
	return typ, rest[:len(rest)-4], nil
}

// section starts a new section: the interfaces of the previous one are gone.
func (n *ngReader) section(body []byte) error {
	if len(body) < 12 {
		return fmt.Errorf("%w: section header too short", ErrMalformedFile)
	}
	if major := n.order.Uint16(body[0:2]); major != 1 {
		return fmt.Errorf("%w: pcapng version %d", ErrMalformedFile, major)
	}
	n.ifaces = n.ifaces[:0]
	return nil
}

func (n *ngReader) iface(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("%w: interface description too short", ErrMalformedFile)
	}
	ifc := ngIface{link: uint32(n.order.Uint16(body[0:2])), snap: n.order.Uint32(body[4:8]), unitsPerSec: 1e6}
	opts := body[8:]
	for len(opts) >= 4 {
		code, l := n.order.Uint16(opts[0:2]), int(n.order.Uint16(opts[2:4]))
		if code == ngOptEnd || 4+l > len(opts) {
			break
		}
		v := opts[4 : 4+l]
		switch {
		case code == ngOptTSResol && l == 1:
			u, err := tsResolution(v[0])
			if err != nil {
				return err
			}
			ifc.unitsPerSec = u
		case code == ngOptTSOffset && l == 8:
			ifc.offset = int64(n.order.Uint64(v))
		}
		pad := (4 - l%4) % 4
		if 4+l+pad > len(opts) {
			break
		}
		opts = opts[4+l+pad:]
	}
	n.ifaces = append(n.ifaces, ifc)
	return nil
}

// tsResolution decodes if_tsresol: a negative power of 10, or of 2 when the
// top bit is set.
func tsResolution(v byte) (uint64, error) {
	if v&0x80 != 0 {
		if v&0x7f > 63 {
			return 0, fmt.Errorf("%w: timestamp resolution 2^-%d", ErrMalformedFile, v&0x7f)
		}
		return 1 << (v & 0x7f), nil
	}
	if v > 19 {
		return 0, fmt.Errorf("%w: timestamp resolution 10^-%d", ErrMalformedFile, v)
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, nil
}

func (ifc ngIface) time(hi, lo uint32) time.Time {
	ts := uint64(hi)<<32 | uint64(lo)
	sec, frac := ts/ifc.unitsPerSec, ts%ifc.unitsPerSec
	// frac < unitsPerSec, so the high word is below the divisor: no overflow.
	h, l := bits.Mul64(frac, 1e9)
	ns, _ := bits.Div64(h, l, ifc.unitsPerSec)
	if sec > math.MaxInt64/2 {
		sec = math.MaxInt64 / 2 // a damaged value; keep the arithmetic sane
	}
	return time.Unix(int64(sec)+ifc.offset, int64(ns)).UTC()
}

func (n *ngReader) next() ([]byte, uint32, time.Time, int, error) {
	for {
		typ, body, err := n.readBlock()
		if err != nil {
			return nil, 0, time.Time{}, 0, err
		}
		switch typ {
		case ngBlockSHB:
			if err := n.section(body); err != nil {
				return nil, 0, time.Time{}, 0, err
			}
		case ngBlockIDB:
			if err := n.iface(body); err != nil {
				return nil, 0, time.Time{}, 0, err
			}
		case ngBlockEPB, ngBlockPB:
			if len(body) < 20 {
				return nil, 0, time.Time{}, 0, fmt.Errorf("%w: packet block too short", ErrMalformedFile)
			}
			var id uint32
			if typ == ngBlockEPB {
				id = n.order.Uint32(body[0:4])
			} else {
				id = uint32(n.order.Uint16(body[0:2]))
			}
			if id >= uint32(len(n.ifaces)) {
				return nil, 0, time.Time{}, 0, fmt.Errorf("%w: packet for undeclared interface %d", ErrMalformedFile, id)
			}
			ifc := n.ifaces[id]
			capLen, orig := n.order.Uint32(body[12:16]), n.order.Uint32(body[16:20])
			if capLen > uint32(len(body)-20) {
				return nil, 0, time.Time{}, 0, fmt.Errorf("%w: captured length %d exceeds its block", ErrMalformedFile, capLen)
			}
			ts := ifc.time(n.order.Uint32(body[4:8]), n.order.Uint32(body[8:12]))
			return body[20 : 20+capLen], ifc.link, ts, int(orig), nil
		case ngBlockSPB:
			if len(body) < 4 || len(n.ifaces) == 0 {
				return nil, 0, time.Time{}, 0, fmt.Errorf("%w: simple packet block without interface", ErrMalformedFile)
			}
			ifc := n.ifaces[0]
			orig := n.order.Uint32(body[0:4])
			capLen := min(uint64(orig), uint64(len(body)-4))
			if ifc.snap != 0 {
				capLen = min(capLen, uint64(ifc.snap))
			}
			// A simple packet has no timestamp.
			return body[4 : 4+capLen], ifc.link, time.Time{}, int(orig), nil
		}
		// Other blocks (statistics, name resolution, custom) carry no packets.
	}
}
