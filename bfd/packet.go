package bfd

import (
	"encoding/binary"
	"time"
)

// Port is the UDP destination port of single-hop BFD control packets
// (RFC 5881 §4).
const Port = 3784

// Source ports of a session are taken from this range and stay fixed for the
// session's life (RFC 5881 §4).
const (
	MinSourcePort = 49152
	MaxSourcePort = 65535
)

// TTL is the TTL or hop limit every single-hop packet is sent with, and the
// only one accepted on receive (RFC 5881 §5, GTSM).
const TTL = 255

// TOS is the IPv4 TOS / IPv6 traffic class of control packets: CS6, network
// control, as FRR and most routers send them.
const TOS = 0xc0

// Version is the protocol version of RFC 5880.
const Version = 1

// HeaderLen is the length of a control packet without authentication
// section (RFC 5880 §4.1), and MaxLen the most a packet may carry: the
// Length field is one byte.
const (
	HeaderLen = 24
	MaxLen    = 255
)

// State is a session state as carried in the Sta field (RFC 5880 §4.1).
type State uint8

const (
	AdminDown State = 0
	Down      State = 1
	Init      State = 2
	Up        State = 3
)

var stateNames = [4]string{"AdminDown", "Down", "Init", "Up"}

func (s State) String() string { return stateNames[s&3] }

// Diag is a diagnostic code (RFC 5880 §4.1): why the sender's session last
// changed state.
type Diag uint8

const (
	DiagNone              Diag = 0
	DiagDetectExpired     Diag = 1 // Control Detection Time Expired
	DiagEchoFailed        Diag = 2
	DiagNeighborDown      Diag = 3 // Neighbor Signaled Session Down
	DiagForwardingReset   Diag = 4
	DiagPathDown          Diag = 5
	DiagConcatPathDown    Diag = 6
	DiagAdminDown         Diag = 7 // Administratively Down
	DiagReverseConcatDown Diag = 8
)

var diagNames = [...]string{
	"none", "control_detection_time_expired", "echo_function_failed", "neighbor_signaled_down",
	"forwarding_plane_reset", "path_down", "concatenated_path_down", "administratively_down",
	"reverse_concatenated_path_down",
}

// String is a short stable token for logs and labels.
func (d Diag) String() string {
	if int(d) < len(diagNames) {
		return diagNames[d]
	}
	return "reserved"
}

// Packet is one control packet. Intervals are in microseconds as on the wire;
// Duration and Micros convert.
type Packet struct {
	Diag       Diag
	State      State
	Poll       bool // P
	Final      bool // F
	CPI        bool // C: control plane independent
	Auth       bool // A: only ever seen on receive, refused
	Demand     bool // D
	Multipoint bool // M: always refused on receive
	DetectMult uint8
	MyDiscr    uint32
	YourDiscr  uint32
	// DesiredMinTx, RequiredMinRx, RequiredMinEchoRx in µs.
	DesiredMinTx      uint32
	RequiredMinRx     uint32
	RequiredMinEchoRx uint32
}

const (
	flagPoll       = 0x20
	flagFinal      = 0x10
	flagCPI        = 0x08
	flagAuth       = 0x04
	flagDemand     = 0x02
	flagMultipoint = 0x01
)

// Decode parses b, a UDP payload, into p and applies the receive checks of
// RFC 5880 §6.8.6 that need no session: each failure returns its sentinel
// (see errors.go) and leaves p partly filled, not to be used. Bytes after
// Length are ignored (the RFC only refuses a Length beyond the payload).
func (p *Packet) Decode(b []byte) error {
	if len(b) < HeaderLen {
		return ErrTruncated
	}
	if b[0]>>5 != Version {
		return ErrVersion
	}
	flags := b[1]
	auth := flags&flagAuth != 0
	minLen := HeaderLen
	if auth {
		minLen = HeaderLen + 2
	}
	if n := int(b[3]); n < minLen || n > len(b) {
		return ErrLength
	}
	*p = Packet{
		Diag:              Diag(b[0] & 0x1f),
		State:             State(flags >> 6),
		Poll:              flags&flagPoll != 0,
		Final:             flags&flagFinal != 0,
		CPI:               flags&flagCPI != 0,
		Auth:              auth,
		Demand:            flags&flagDemand != 0,
		Multipoint:        flags&flagMultipoint != 0,
		DetectMult:        b[2],
		MyDiscr:           binary.BigEndian.Uint32(b[4:]),
		YourDiscr:         binary.BigEndian.Uint32(b[8:]),
		DesiredMinTx:      binary.BigEndian.Uint32(b[12:]),
		RequiredMinRx:     binary.BigEndian.Uint32(b[16:]),
		RequiredMinEchoRx: binary.BigEndian.Uint32(b[20:]),
	}
	switch {
	case p.DetectMult == 0:
		return ErrDetectMult
	case p.Multipoint:
		return ErrMultipoint
	case p.MyDiscr == 0:
		return ErrMyDiscr
	case p.YourDiscr == 0 && p.State != Down && p.State != AdminDown:
		return ErrYourDiscr
	case p.Poll && p.Final:
		// RFC 5880 §6.5: a packet MUST NOT have both set; which one
		// the sender meant cannot be known.
		return ErrPollFinal
	case auth:
		return ErrAuth
	}
	return nil
}

// Encode writes p into b, which must hold HeaderLen bytes, and returns the
// length written. Auth and Multipoint are never sent (we do neither). It
// does not allocate.
func (p *Packet) Encode(b []byte) int {
	_ = b[HeaderLen-1]
	b[0] = Version<<5 | byte(p.Diag)&0x1f
	f := byte(p.State&3) << 6
	if p.Poll {
		f |= flagPoll
	}
	if p.Final {
		f |= flagFinal
	}
	if p.CPI {
		f |= flagCPI
	}
	if p.Demand {
		f |= flagDemand
	}
	b[1] = f
	b[2] = p.DetectMult
	b[3] = HeaderLen
	binary.BigEndian.PutUint32(b[4:], p.MyDiscr)
	binary.BigEndian.PutUint32(b[8:], p.YourDiscr)
	binary.BigEndian.PutUint32(b[12:], p.DesiredMinTx)
	binary.BigEndian.PutUint32(b[16:], p.RequiredMinRx)
	binary.BigEndian.PutUint32(b[20:], p.RequiredMinEchoRx)
	return HeaderLen
}

// Duration converts a wire interval (µs) to a Duration.
func Duration(us uint32) time.Duration { return time.Duration(us) * time.Microsecond }

// Micros converts d to a wire interval, rounding down and saturating.
func Micros(d time.Duration) uint32 {
	us := d / time.Microsecond
	if us < 0 {
		return 0
	}
	if us > 0xffffffff {
		return 0xffffffff
	}
	return uint32(us)
}
