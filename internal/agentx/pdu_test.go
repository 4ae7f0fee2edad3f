package agentx

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The wire forms below are written from RFC 2741 §5 and §6 by hand.
func TestEncodeWire(t *testing.T) {
	cases := []struct {
		name string
		pdu  PDU
		want string
	}{
		{"open: 1.3.6.1 prefix compressed, descr padded [2741-5.1, 5.3, 6.2.1]",
			PDU{Type: TypeOpen, PacketID: 1, Timeout: 5, ID: OID{1, 3, 6, 1, 4, 1, 9}, Descr: []byte("gov")},
			"01 01 10 00  00000000 00000000 00000001 00000018" +
				" 05 000000  02 04 00 00 00000001 00000009  00000003 676f7600"},
		{"register a mib-2 subtree [2741-6.2.3]",
			PDU{Type: TypeRegister, SessionID: 7, PacketID: 2, Priority: 127, Subtree: OID{1, 3, 6, 1, 2, 1, 68}},
			"01 03 10 00  00000007 00000000 00000002 00000010" +
				" 00 7f 00 00  02 02 00 00 00000001 00000044"},
		{"OID without the prefix: 1.2 [2741-5.1]",
			PDU{Type: TypeRegister, Subtree: OID{1, 2}},
			"01 03 10 00  00000000 00000000 00000000 00000010 00 00 00 00  02 00 00 00 00000001 00000002"},
		{"response with each value type [2741-5.4, 6.2.16]",
			PDU{Type: TypeResponse, SessionID: 1, TransactionID: 2, PacketID: 3, SysUpTime: 100, VarBinds: []VarBind{
				{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1}, Int: 0xffffffff},
				{Type: Counter64, Name: OID{1, 3, 6, 1, 2, 2}, Int: 1 << 40},
				{Type: IPAddress, Name: OID{1, 3, 6, 1, 2, 3}, Bytes: []byte{10, 77, 0, 1}},
				{Type: ObjectID, Name: OID{1, 3, 6, 1, 2, 4}, OID: OID{1, 3, 6, 1, 6, 3, 1}},
				{Type: EndOfMibView, Name: OID{1, 3, 6, 1, 2, 5}},
			}},
			"01 12 10 00  00000001 00000002 00000003 00000064  00000064 0000 0000" +
				" 0002 0000 01 02 00 00 00000001  ffffffff" +
				" 0046 0000 01 02 00 00 00000002  0000010000000000" +
				" 0040 0000 01 02 00 00 00000003  00000004 0a4d0001" +
				" 0006 0000 01 02 00 00 00000004  02 06 00 00 00000003 00000001" +
				" 0082 0000 01 02 00 00 00000005"},
		{"close shutdown [2741-6.2.2]",
			PDU{Type: TypeClose, SessionID: 9, Reason: CloseShutdown},
			"01 02 10 00 00000009 00000000 00000000 00000004 05 000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Encode(nil, &tc.pdu)
			want := unhex(t, tc.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %x\nwant %x", got, want)
			}
			back, err := Decode(got)
			if err != nil {
				t.Fatal(err)
			}
			tc.pdu.Flags |= FlagNetworkByteOrder
			if !reflect.DeepEqual(back, tc.pdu) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", back, tc.pdu)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want PDU
		err  error
	}{
		{"getnext little-endian (net-snmp's own order): two ranges, include, end [2741-5.2, 6.2.7]",
			"01 06 00 00  03000000 04000000 05000000 2c000000" +
				" 02 02 01 00 01000000 44000000  02 02 00 00 01000000 45000000" +
				" 03 02 00 00 01000000 44000000 02000000  00 00 00 00",
			PDU{Type: TypeGetNext, SessionID: 3, TransactionID: 4, PacketID: 5, Ranges: []SearchRange{
				{Start: OID{1, 3, 6, 1, 2, 1, 68}, Include: true, End: OID{1, 3, 6, 1, 2, 1, 69}},
				{Start: OID{1, 3, 6, 1, 2, 1, 68, 2}},
			}}, nil},
		{"getbulk with non-default context [2741-6.2.8]",
			"01 07 18 00  00000001 00000002 00000003 00000014" +
				" 00000002 6331 0000  0001 000a  00 00 00 00  00 00 00 00",
			PDU{Type: TypeGetBulk, Flags: 0x18, SessionID: 1, TransactionID: 2, PacketID: 3, Context: []byte("c1"),
				NonRepeaters: 1, MaxRepetitions: 10, Ranges: []SearchRange{{}}}, nil},
		{"testset varbind [2741-6.2.9]",
			"01 08 10 00  00000001 00000002 00000003 00000010  0002 0000 01 02 00 00 00000001 00000007",
			PDU{Type: TypeTestSet, Flags: 0x10, SessionID: 1, TransactionID: 2, PacketID: 3,
				VarBinds: []VarBind{{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1}, Int: 7}}}, nil},
		{"cleanupset is empty", "01 0b 10 00 00000001 00000002 00000003 00000000",
			PDU{Type: TypeCleanupSet, Flags: 0x10, SessionID: 1, TransactionID: 2, PacketID: 3}, nil},
		{"version 2 refused", "02 06 10 00 00000000 00000000 00000000 00000000", PDU{}, ErrVersion},
		{"payload over the limit refused before reading it", "01 06 10 00 00000000 00000000 00000000 00010004", PDU{}, ErrTooLarge},
		{"payload length not a multiple of 4", "01 06 10 00 00000000 00000000 00000000 00000003 000000", PDU{}, ErrMalformed},
		{"header cut", "01 06 10 00 00000000", PDU{}, ErrShort},
		{"payload shorter than the header says", "01 06 10 00 00000000 00000000 00000000 00000008 00000000", PDU{}, ErrShort},
		{"OID longer than its payload", "01 06 10 00 00000000 00000000 00000000 00000008 05 00 00 00 00000001", PDU{}, ErrShort},
		{"OID of 129 sub-identifiers: refused before its length", "01 05 10 00 00000000 00000000 00000000 00000004 81 00 00 00", PDU{}, ErrMalformed},
		{"OID over 128 with its prefix", "01 05 10 00 00000000 00000000 00000000 00000004 7c 02 00 00", PDU{}, ErrMalformed},
		{"octet string longer than the payload", "01 01 10 00 00000000 00000000 00000000 0000000c 05000000 00000000 ffffffff", PDU{}, ErrShort},
		{"unknown varbind type", "01 12 10 00 00000000 00000000 00000000 00000010 00000000 00000000 0099 0000 00000000", PDU{}, ErrMalformed},
		{"unknown PDU type", "01 63 10 00 00000000 00000000 00000000 00000000", PDU{Type: 0x63, Flags: 0x10}, ErrType},
		{"bytes after the last field", "01 02 10 00 00000000 00000000 00000000 00000008 01000000 00000000", PDU{}, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(unhex(t, tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestOIDCompare(t *testing.T) {
	cases := []struct {
		a, b OID
		want int
	}{
		{OID{1, 3}, OID{1, 3}, 0},
		{OID{1, 3}, OID{1, 3, 0}, -1},
		{OID{1, 4}, OID{1, 3, 9}, 1},
		{OID{}, OID{0}, -1},
		{OID{2}, OID{10}, -1},
	}
	for _, tc := range cases {
		if got := tc.a.Compare(tc.b); (got > 0) != (tc.want > 0) || (got < 0) != (tc.want < 0) {
			t.Errorf("%s vs %s: %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if s := (OID{1, 3, 6, 1}).String(); s != "1.3.6.1" {
		t.Errorf("String %q", s)
	}
}
