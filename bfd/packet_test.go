package bfd

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An FRR bfdd packet as captured: Up, 10 ms both ways, multiplier 3.
const frrUp = "20 c0 03 18 00000002 00000001 00002710 00002710 00000032"

func TestDecode(t *testing.T) {
	// good is a valid Up packet; each case patches one thing.
	good := frrUp
	cases := []struct {
		name  string
		hex   string
		patch func(b []byte) []byte
		err   error
	}{
		{"[5880-4.1] valid Up packet", good, nil, nil},
		{"[5880-6.8.6-a] version not 1 dropped", good, func(b []byte) []byte { b[0] = 0x40; return b }, ErrVersion},
		{"[5880-6.8.6-a] version 0 dropped", good, func(b []byte) []byte { b[0] = 0x00; return b }, ErrVersion},
		{"[5880-6.8.6-b] shorter than 24 bytes dropped", good, func(b []byte) []byte { return b[:23] }, ErrTruncated},
		{"[5880-6.8.6-b] length field below 24 dropped", good, func(b []byte) []byte { b[3] = 23; return b }, ErrLength},
		{"[5880-6.8.6-c] length field beyond payload dropped", good, func(b []byte) []byte { b[3] = 25; return b }, ErrLength},
		{"[5880-6.8.6-c] payload longer than length accepted", good, func(b []byte) []byte { return append(b, 0, 0) }, nil},
		{"[5880-6.8.6-b] A bit with length 24 dropped as length", good, func(b []byte) []byte { b[1] |= flagAuth; return b }, ErrLength},
		{"[5880-6.8.6-d] detect mult 0 dropped", good, func(b []byte) []byte { b[2] = 0; return b }, ErrDetectMult},
		{"[5880-6.8.6-e] multipoint dropped", good, func(b []byte) []byte { b[1] |= flagMultipoint; return b }, ErrMultipoint},
		{"[5880-6.8.6-f] my discriminator 0 dropped", good, func(b []byte) []byte { copy(b[4:8], []byte{0, 0, 0, 0}); return b }, ErrMyDiscr},
		{"[5880-6.8.6-g] your discriminator 0 in Up dropped", good, func(b []byte) []byte { copy(b[8:12], []byte{0, 0, 0, 0}); return b }, ErrYourDiscr},
		{"[5880-6.8.6-g] your discriminator 0 in Init dropped", good, func(b []byte) []byte { b[1] = 0x80; copy(b[8:12], []byte{0, 0, 0, 0}); return b }, ErrYourDiscr},
		{"[5880-6.8.6-g] your discriminator 0 in Down accepted", good, func(b []byte) []byte { b[1] = 0x40; copy(b[8:12], []byte{0, 0, 0, 0}); return b }, nil},
		{"[5880-6.8.6-g] your discriminator 0 in AdminDown accepted", good, func(b []byte) []byte { b[1] = 0x00; copy(b[8:12], []byte{0, 0, 0, 0}); return b }, nil},
		{"[5880-6.5] poll and final together dropped", good, func(b []byte) []byte { b[1] |= flagPoll | flagFinal; return b }, ErrPollFinal},
		{"[5880-6.8.6-h] authentication present dropped (not implemented)", good, func(b []byte) []byte {
			b[1] |= flagAuth
			b[3] = 24 + 7
			return append(b, 1, 7, 1, 'a', 'b', 'c', 'd')
		}, ErrAuth},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := unhex(t, c.hex)
			if c.patch != nil {
				b = c.patch(b)
			}
			var p Packet
			err := p.Decode(b)
			if err != c.err {
				t.Fatalf("Decode = %v, want %v", err, c.err)
			}
			if c.err != nil && CheckOf(err) == CheckOther {
				t.Fatalf("%v has no check", err)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	var p Packet
	if err := p.Decode(unhex(t, frrUp)); err != nil {
		t.Fatal(err)
	}
	want := Packet{State: Up, DetectMult: 3, MyDiscr: 2, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000, RequiredMinEchoRx: 50}
	if p != want {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if Duration(p.DesiredMinTx) != 10*time.Millisecond {
		t.Fatalf("Duration = %v", Duration(p.DesiredMinTx))
	}
}

// [5880-4.1] Encoding lays out every field where §4.1 puts it, and what is
// encoded decodes back.
func TestEncodeRoundTrip(t *testing.T) {
	p := Packet{Diag: DiagNeighborDown, State: Init, Poll: true, CPI: true, DetectMult: 5, MyDiscr: 0x01020304,
		YourDiscr: 0x0a0b0c0d, DesiredMinTx: 1000000, RequiredMinRx: 300000}
	var b [HeaderLen]byte
	if n := p.Encode(b[:]); n != HeaderLen {
		t.Fatalf("n = %d", n)
	}
	want := unhex(t, "23 a8 05 18 01020304 0a0b0c0d 000f4240 000493e0 00000000")
	if string(b[:]) != string(want) {
		t.Fatalf("encoded %x\nwant    %x", b, want)
	}
	var q Packet
	if err := q.Decode(b[:]); err != nil {
		t.Fatal(err)
	}
	if q != p {
		t.Fatalf("round trip %+v != %+v", q, p)
	}
}

func TestEncodeAllocs(t *testing.T) {
	p := Packet{State: Up, DetectMult: 3, MyDiscr: 1, YourDiscr: 2}
	var b [HeaderLen]byte
	var q Packet
	if n := testing.AllocsPerRun(100, func() {
		p.Encode(b[:])
		_ = q.Decode(b[:])
	}); n != 0 {
		t.Fatalf("%v allocations per encode+decode", n)
	}
}

func TestMicros(t *testing.T) {
	for _, c := range []struct {
		d  time.Duration
		us uint32
	}{{10 * time.Millisecond, 10000}, {-1, 0}, {time.Duration(1) << 62, 0xffffffff}, {1500 * time.Nanosecond, 1}} {
		if got := Micros(c.d); got != c.us {
			t.Errorf("Micros(%v) = %d, want %d", c.d, got, c.us)
		}
	}
}

func TestCheckOfWrapped(t *testing.T) {
	err := wrapped{ErrTTL}
	if CheckOf(err) != CheckTTL || CheckOf(nil) != CheckOther {
		t.Fatal("CheckOf does not see through wrapping")
	}
	if CheckTTL.String() != "ttl" || NumChecks.String() != "other" {
		t.Fatal("check names")
	}
}

type wrapped struct{ error }

func (w wrapped) Unwrap() error { return w.error }
