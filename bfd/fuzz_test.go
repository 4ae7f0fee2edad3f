package bfd

import (
	"bytes"
	"testing"
)

// Decoding arbitrary bytes never panics, and what decodes re-encodes to the
// same first 24 bytes (only Length, which the encoder always writes as 24,
// may differ: trailing bytes are ignored). Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(unhex(f, frrUp))
	f.Add(unhex(f, "20 40 03 18 00000002 00000000 000f4240 000f4240 00000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.Decode(b); err != nil {
			if CheckOf(err) == CheckOther {
				t.Fatalf("error without check: %v", err)
			}
			return
		}
		var out [HeaderLen]byte
		p.Encode(out[:])
		in := bytes.Clone(b[:HeaderLen])
		in[3] = HeaderLen
		if !bytes.Equal(in, out[:]) {
			t.Fatalf("re-encode differs:\n%x\n%x", in, out)
		}
		var q Packet
		if err := q.Decode(out[:]); err != nil || q != p {
			t.Fatalf("re-decode: %v %+v != %+v", err, q, p)
		}
	})
}
