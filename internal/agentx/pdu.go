// Package agentx is the small part of the AgentX protocol (RFC 2741) a
// read-only subagent needs: the PDU codec (this file, pure), a sorted view
// of the objects served with the Get/GetNext/GetBulk semantics (view.go),
// and the session with the master agent (session.go).
//
// Every input has a limit: a PDU's payload is at most MaxPayload bytes, an
// OID at most MaxSubIDs sub-identifiers, and a malformed PDU is an error,
// never a panic.
package agentx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PDU types (RFC 2741 §6.1).
const (
	TypeOpen            uint8 = 1
	TypeClose           uint8 = 2
	TypeRegister        uint8 = 3
	TypeUnregister      uint8 = 4
	TypeGet             uint8 = 5
	TypeGetNext         uint8 = 6
	TypeGetBulk         uint8 = 7
	TypeTestSet         uint8 = 8
	TypeCommitSet       uint8 = 9
	TypeUndoSet         uint8 = 10
	TypeCleanupSet      uint8 = 11
	TypeNotify          uint8 = 12
	TypePing            uint8 = 13
	TypeIndexAllocate   uint8 = 14
	TypeIndexDeallocate uint8 = 15
	TypeAddAgentCaps    uint8 = 16
	TypeRemoveAgentCaps uint8 = 17
	TypeResponse        uint8 = 18
)

// Header flags (RFC 2741 §6.1).
const (
	FlagInstanceRegistration uint8 = 0x01
	FlagNewIndex             uint8 = 0x02
	FlagAnyIndex             uint8 = 0x04
	FlagNonDefaultContext    uint8 = 0x08
	FlagNetworkByteOrder     uint8 = 0x10
)

// Value types of a VarBind (RFC 2741 §5.4).
type Type uint16

const (
	Integer        Type = 2
	OctetString    Type = 4
	Null           Type = 5
	ObjectID       Type = 6
	IPAddress      Type = 64
	Counter32      Type = 65
	Gauge32        Type = 66
	TimeTicks      Type = 67
	Opaque         Type = 68
	Counter64      Type = 70
	NoSuchObject   Type = 128
	NoSuchInstance Type = 129
	EndOfMibView   Type = 130
)

// Close reasons (RFC 2741 §6.2.2).
const (
	CloseOther         uint8 = 1
	CloseParseError    uint8 = 2
	CloseProtocolError uint8 = 3
	CloseTimeouts      uint8 = 4
	CloseShutdown      uint8 = 5
	CloseByManager     uint8 = 6
)

// Errors of a Response (RFC 2741 §6.2.16) the subagent sends or reads.
const (
	NoError            uint16 = 0
	GenErr             uint16 = 5
	NotWritable        uint16 = 17
	UnsupportedContext uint16 = 262
	ParseErrorRes      uint16 = 266
	ProcessingError    uint16 = 268
)

const (
	// HeaderLen is the fixed AgentX header.
	HeaderLen = 20
	// MaxPayload bounds one PDU: a master sending more is broken or
	// hostile. net-snmp's largest PDUs are far smaller.
	MaxPayload = 64 << 10
	// MaxSubIDs is the longest OID SNMP allows (RFC 2578 §3.5).
	MaxSubIDs = 128
)

// OID is an object identifier.
type OID []uint32

// String renders the OID dotted.
func (o OID) String() string {
	b := make([]byte, 0, 4*len(o))
	for i, s := range o {
		if i > 0 {
			b = append(b, '.')
		}
		b = fmt.Appendf(b, "%d", s)
	}
	return string(b)
}

// Compare orders OIDs lexicographically, as SNMP does.
func (o OID) Compare(p OID) int {
	for i := range min(len(o), len(p)) {
		switch {
		case o[i] < p[i]:
			return -1
		case o[i] > p[i]:
			return 1
		}
	}
	return len(o) - len(p)
}

// HasPrefix says whether o is p or under it.
func (o OID) HasPrefix(p OID) bool {
	return len(o) >= len(p) && o[:len(p)].Compare(p) == 0
}

// VarBind is one variable binding. Numeric types (Integer as its 32-bit
// two's complement, Counter32, Gauge32, TimeTicks, Counter64) use Int;
// OctetString, IPAddress and Opaque use Bytes; ObjectID uses OID.
type VarBind struct {
	Type  Type
	Name  OID
	Int   uint64
	Bytes []byte
	OID   OID
}

// SearchRange is a Get/GetNext/GetBulk operand: Start (included when
// Include) up to End (excluded; empty: no end).
type SearchRange struct {
	Start   OID
	Include bool
	End     OID
}

// PDU is a decoded AgentX PDU; which fields are used depends on Type.
type PDU struct {
	Type          uint8
	Flags         uint8
	SessionID     uint32
	TransactionID uint32
	PacketID      uint32
	Context       []byte // with FlagNonDefaultContext

	// Open: Timeout (seconds), ID and Descr. Register: Timeout,
	// Priority, Subtree (RangeSubID and UpperBound unused by this
	// package but decoded). Close: Reason.
	Timeout    uint8
	Priority   uint8
	ID         OID
	Descr      []byte
	Subtree    OID
	RangeSubID uint8
	UpperBound uint32
	Reason     uint8

	// Get, GetNext, GetBulk.
	NonRepeaters   uint16
	MaxRepetitions uint16
	Ranges         []SearchRange

	// Response: SysUpTime, Error, Index and VarBinds. Notify, TestSet:
	// VarBinds.
	SysUpTime uint32
	Error     uint16
	Index     uint16
	VarBinds  []VarBind
}

// Decoding errors.
var (
	ErrShort     = errors.New("agentx: PDU truncated")
	ErrVersion   = errors.New("agentx: not AgentX version 1")
	ErrTooLarge  = errors.New("agentx: payload larger than the limit")
	ErrMalformed = errors.New("agentx: malformed PDU")
	ErrType      = errors.New("agentx: PDU type not handled")
)

// PayloadLen reads the payload length from a header, checking the version
// and the limit, so a reader knows how much more to read.
func PayloadLen(h []byte) (int, error) {
	if len(h) < HeaderLen {
		return 0, ErrShort
	}
	if h[0] != 1 {
		return 0, ErrVersion
	}
	n := order(h[2]).Uint32(h[16:20])
	if n > MaxPayload {
		return 0, ErrTooLarge
	}
	if n%4 != 0 {
		return 0, ErrMalformed
	}
	return int(n), nil
}

func order(flags uint8) binary.ByteOrder {
	if flags&FlagNetworkByteOrder != 0 {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Decode parses one whole PDU (header and payload).
func Decode(b []byte) (PDU, error) {
	n, err := PayloadLen(b)
	if err != nil {
		return PDU{}, err
	}
	if len(b) != HeaderLen+n {
		return PDU{}, ErrShort
	}
	bo := order(b[2])
	p := PDU{Type: b[1], Flags: b[2], SessionID: bo.Uint32(b[4:]), TransactionID: bo.Uint32(b[8:]), PacketID: bo.Uint32(b[12:])}
	d := decoder{b: b[HeaderLen:], bo: bo}
	switch p.Type {
	case TypeOpen:
		p.Timeout = d.u8()
		d.skip(3)
		p.ID, _ = d.oid()
		p.Descr = d.octets()
	case TypeClose:
		p.Reason = d.u8()
		d.skip(3)
	case TypeRegister, TypeUnregister:
		p.context(&d)
		p.Timeout = d.u8()
		p.Priority = d.u8()
		p.RangeSubID = d.u8()
		d.skip(1)
		p.Subtree, _ = d.oid()
		if p.RangeSubID != 0 {
			p.UpperBound = d.u32()
		}
	case TypeGet, TypeGetNext, TypeGetBulk:
		p.context(&d)
		if p.Type == TypeGetBulk {
			p.NonRepeaters = d.u16()
			p.MaxRepetitions = d.u16()
		}
		for d.err == nil && len(d.b) > 0 {
			start, inc := d.oid()
			end, _ := d.oid()
			p.Ranges = append(p.Ranges, SearchRange{Start: start, Include: inc, End: end})
		}
	case TypeTestSet, TypeNotify:
		p.context(&d)
		p.VarBinds = d.varbinds()
	case TypeCommitSet, TypeUndoSet, TypeCleanupSet:
	case TypePing:
		p.context(&d)
	case TypeResponse:
		p.SysUpTime = d.u32()
		p.Error = d.u16()
		p.Index = d.u16()
		p.VarBinds = d.varbinds()
	default:
		return p, ErrType
	}
	if d.err != nil {
		return p, d.err
	}
	if len(d.b) != 0 {
		return p, fmt.Errorf("%w: %d bytes after the last field", ErrMalformed, len(d.b))
	}
	return p, nil
}

func (p *PDU) context(d *decoder) {
	if p.Flags&FlagNonDefaultContext != 0 {
		p.Context = d.octets()
	}
}

type decoder struct {
	b   []byte
	bo  binary.ByteOrder
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = ErrShort
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) skip(n int) { d.take(n) }

func (d *decoder) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if v := d.take(2); v != nil {
		return d.bo.Uint16(v)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return d.bo.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.take(8); v != nil {
		return d.bo.Uint64(v)
	}
	return 0
}

// oid reads an OID and its include flag (RFC 2741 §5.1).
func (d *decoder) oid() (OID, bool) {
	n, prefix, include := d.u8(), d.u8(), d.u8()
	d.skip(1)
	if d.err != nil {
		return nil, false
	}
	if n > MaxSubIDs || (prefix != 0 && int(n)+5 > MaxSubIDs) {
		d.err = fmt.Errorf("%w: OID of %d sub-identifiers", ErrMalformed, n)
		return nil, false
	}
	if int(n)*4 > len(d.b) {
		d.err = ErrShort
		return nil, false
	}
	var o OID
	if prefix != 0 {
		o = make(OID, 0, 5+int(n))
		o = append(o, 1, 3, 6, 1, uint32(prefix))
	} else if n > 0 {
		o = make(OID, 0, n)
	}
	for range n {
		o = append(o, d.u32())
	}
	return o, include != 0
}

// octets reads a padded octet string (RFC 2741 §5.3).
func (d *decoder) octets() []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if n > uint32(len(d.b)) {
		d.err = ErrShort
		return nil
	}
	v := d.take(int(n))
	d.skip(pad(int(n)))
	return append([]byte(nil), v...)
}

func (d *decoder) varbinds() []VarBind {
	var out []VarBind
	for d.err == nil && len(d.b) > 0 {
		vb := VarBind{Type: Type(d.u16())}
		d.skip(2)
		vb.Name, _ = d.oid()
		switch vb.Type {
		case Integer, Counter32, Gauge32, TimeTicks:
			vb.Int = uint64(d.u32())
		case Counter64:
			vb.Int = d.u64()
		case OctetString, IPAddress, Opaque:
			vb.Bytes = d.octets()
		case ObjectID:
			vb.OID, _ = d.oid()
		case Null, NoSuchObject, NoSuchInstance, EndOfMibView:
		default:
			d.err = fmt.Errorf("%w: varbind type %d", ErrMalformed, vb.Type)
		}
		if d.err == nil {
			out = append(out, vb)
		}
	}
	return out
}

func pad(n int) int { return (4 - n%4) % 4 }

// Encode appends p to b in network byte order.
func Encode(b []byte, p *PDU) []byte {
	start := len(b)
	flags := p.Flags | FlagNetworkByteOrder
	if len(p.Context) > 0 {
		flags |= FlagNonDefaultContext
	} else {
		flags &^= FlagNonDefaultContext
	}
	b = append(b, 1, p.Type, flags, 0)
	b = binary.BigEndian.AppendUint32(b, p.SessionID)
	b = binary.BigEndian.AppendUint32(b, p.TransactionID)
	b = binary.BigEndian.AppendUint32(b, p.PacketID)
	b = append(b, 0, 0, 0, 0) // payload length, set below
	ctx := func() {
		if len(p.Context) > 0 {
			b = appendOctets(b, p.Context)
		}
	}
	switch p.Type {
	case TypeOpen:
		b = append(b, p.Timeout, 0, 0, 0)
		b = appendOID(b, p.ID, false)
		b = appendOctets(b, p.Descr)
	case TypeClose:
		b = append(b, p.Reason, 0, 0, 0)
	case TypeRegister, TypeUnregister:
		ctx()
		b = append(b, p.Timeout, p.Priority, p.RangeSubID, 0)
		b = appendOID(b, p.Subtree, false)
		if p.RangeSubID != 0 {
			b = binary.BigEndian.AppendUint32(b, p.UpperBound)
		}
	case TypeGet, TypeGetNext, TypeGetBulk:
		ctx()
		if p.Type == TypeGetBulk {
			b = binary.BigEndian.AppendUint16(b, p.NonRepeaters)
			b = binary.BigEndian.AppendUint16(b, p.MaxRepetitions)
		}
		for _, r := range p.Ranges {
			b = appendOID(b, r.Start, r.Include)
			b = appendOID(b, r.End, false)
		}
	case TypeTestSet, TypeNotify:
		ctx()
		b = appendVarBinds(b, p.VarBinds)
	case TypePing:
		ctx()
	case TypeResponse:
		b = binary.BigEndian.AppendUint32(b, p.SysUpTime)
		b = binary.BigEndian.AppendUint16(b, p.Error)
		b = binary.BigEndian.AppendUint16(b, p.Index)
		b = appendVarBinds(b, p.VarBinds)
	}
	binary.BigEndian.PutUint32(b[start+16:], uint32(len(b)-start-HeaderLen))
	return b
}

// appendOID writes o with the 1.3.6.1.X prefix compressed (RFC 2741 §5.1).
// An OID longer than MaxSubIDs is cut: the views never hold one.
func appendOID(b []byte, o OID, include bool) []byte {
	if len(o) > MaxSubIDs {
		o = o[:MaxSubIDs]
	}
	var prefix uint8
	if len(o) >= 5 && o[0] == 1 && o[1] == 3 && o[2] == 6 && o[3] == 1 && o[4] > 0 && o[4] < 256 {
		prefix = uint8(o[4])
		o = o[5:]
	}
	inc := uint8(0)
	if include {
		inc = 1
	}
	b = append(b, uint8(len(o)), prefix, inc, 0)
	for _, s := range o {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return b
}

func appendOctets(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	b = append(b, s...)
	return append(b, make([]byte, pad(len(s)))...)
}

func appendVarBinds(b []byte, vbs []VarBind) []byte {
	for _, vb := range vbs {
		b = binary.BigEndian.AppendUint16(b, uint16(vb.Type))
		b = append(b, 0, 0)
		b = appendOID(b, vb.Name, false)
		switch vb.Type {
		case Integer, Counter32, Gauge32, TimeTicks:
			b = binary.BigEndian.AppendUint32(b, uint32(vb.Int))
		case Counter64:
			b = binary.BigEndian.AppendUint64(b, vb.Int)
		case OctetString, IPAddress, Opaque:
			b = appendOctets(b, vb.Bytes)
		case ObjectID:
			b = appendOID(b, vb.OID, false)
		}
	}
	return b
}
