package agentx

import (
	"bytes"
	"testing"
)

// FuzzDecode: any bytes from the master decode to a PDU or an error, never
// a panic, and a decoded PDU encodes and decodes to the same PDU.
func FuzzDecode(f *testing.F) {
	for _, p := range []PDU{
		{Type: TypeGet, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 2, 1, 207, 1}}}},
		{Type: TypeGetNext, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 2, 1, 68}, Include: true, End: OID{1, 3, 6, 1, 2, 1, 69}}}},
		{Type: TypeGetBulk, NonRepeaters: 1, MaxRepetitions: 5, Ranges: []SearchRange{{Start: OID{1}}, {Start: OID{2}}}},
		{Type: TypeResponse, SessionID: 4, VarBinds: []VarBind{{Type: OctetString, Name: OID{1, 3}, Bytes: []byte("abcde")}, {Type: Counter64, Name: OID{1}, Int: 9}}},
		{Type: TypeTestSet, VarBinds: []VarBind{{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1, 68, 1, 2, 0}, Int: 2}}},
		{Type: TypeClose, Reason: CloseShutdown},
		{Type: TypeOpen, ID: OID{1, 3, 6, 1, 4, 1}, Descr: []byte("x")},
		{Type: TypeRegister, Subtree: OID{1, 3, 6, 1, 2, 1, 68}, RangeSubID: 7, UpperBound: 9},
		{Type: TypeNotify, Context: []byte("ctx"), VarBinds: []VarBind{{Type: ObjectID, Name: OID{1}, OID: OID{1, 3, 6, 1, 2, 1, 68, 0, 1}}}},
	} {
		f.Add(Encode(nil, &p))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever a master asks, the answer is bounded.
		if vbs := testView().Answer(&p, maxVarBinds); len(vbs) > maxVarBinds && p.Type == TypeGetBulk {
			t.Fatalf("%d varbinds answered", len(vbs))
		}
		again, err := Decode(Encode(nil, &p))
		if err != nil {
			t.Fatalf("re-encoded PDU does not decode: %v", err)
		}
		if !bytes.Equal(Encode(nil, &again), Encode(nil, &p)) {
			t.Fatalf("round trip changed the PDU")
		}
	})
}
