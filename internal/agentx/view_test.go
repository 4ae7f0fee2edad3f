package agentx

import (
	"slices"
	"testing"
)

func testView() *View {
	o := func(s ...uint32) OID { return append(OID{1, 3, 6, 1, 2, 1, 68}, s...) }
	return NewView([]VarBind{
		{Type: Integer, Name: o(1, 3, 1, 3, 2, 1), Int: 3}, // a table cell
		{Type: Integer, Name: o(1, 1, 0), Int: 2},          // a scalar
		{Type: Integer, Name: o(1, 3, 1, 3, 2, 2), Int: 2},
		{Type: Integer, Name: o(1, 3, 1, 5, 2, 1), Int: 100},
	}, []OID{o(1, 1), o(1, 3, 1, 3), o(1, 3, 1, 5)})
}

func names(vbs []VarBind) []string {
	var out []string
	for _, vb := range vbs {
		s := vb.Name.String()
		if vb.Type >= NoSuchObject {
			s += map[Type]string{NoSuchObject: "!obj", NoSuchInstance: "!inst", EndOfMibView: "!end"}[vb.Type]
		}
		out = append(out, s)
	}
	return out
}

func TestViewAnswer(t *testing.T) {
	v := testView()
	m := func(s ...uint32) OID { return append(OID{1, 3, 6, 1, 2, 1, 68}, s...) }
	cases := []struct {
		name string
		pdu  PDU
		want []string
	}{
		{"get: present, missing instance, missing object [2741-7.2.3.1]",
			PDU{Type: TypeGet, Ranges: []SearchRange{{Start: m(1, 1, 0)}, {Start: m(1, 3, 1, 3, 9, 9)}, {Start: m(1, 9, 0)}}},
			[]string{"1.3.6.1.2.1.68.1.1.0", "1.3.6.1.2.1.68.1.3.1.3.9.9!inst", "1.3.6.1.2.1.68.1.9.0!obj"}},
		{"getnext: after start, from a prefix, included start [2741-7.2.3.2]",
			PDU{Type: TypeGetNext, Ranges: []SearchRange{{Start: m(1, 1, 0)}, {Start: m(1, 3)}, {Start: m(1, 1, 0), Include: true}}},
			[]string{"1.3.6.1.2.1.68.1.3.1.3.2.1", "1.3.6.1.2.1.68.1.3.1.3.2.1", "1.3.6.1.2.1.68.1.1.0"}},
		{"getnext: the end bounds the search, the last object ends the view [2741-7.2.3.2]",
			PDU{Type: TypeGetNext, Ranges: []SearchRange{{Start: m(1, 1, 0), End: m(1, 3, 1, 3, 2, 1)}, {Start: m(1, 3, 1, 5, 2, 1)}}},
			[]string{"1.3.6.1.2.1.68.1.1.0!end", "1.3.6.1.2.1.68.1.3.1.5.2.1!end"}},
		{"getbulk: one non-repeater then rounds until every repeater ends [2741-7.2.3.3]",
			PDU{Type: TypeGetBulk, NonRepeaters: 1, MaxRepetitions: 10, Ranges: []SearchRange{{Start: m(1)}, {Start: m(1, 3, 1, 3, 2, 1)}, {Start: m(1, 3, 1, 5)}}},
			[]string{"1.3.6.1.2.1.68.1.1.0",
				"1.3.6.1.2.1.68.1.3.1.3.2.2", "1.3.6.1.2.1.68.1.3.1.5.2.1",
				"1.3.6.1.2.1.68.1.3.1.5.2.1", "1.3.6.1.2.1.68.1.3.1.5.2.1!end",
				"1.3.6.1.2.1.68.1.3.1.5.2.1!end", "1.3.6.1.2.1.68.1.3.1.5.2.1!end"}},
		{"getbulk: max repetitions 0 answers the non-repeaters only",
			PDU{Type: TypeGetBulk, NonRepeaters: 1, Ranges: []SearchRange{{Start: m(1)}, {Start: m(1)}}},
			[]string{"1.3.6.1.2.1.68.1.1.0"}},
		{"getbulk: non-repeaters beyond the ranges",
			PDU{Type: TypeGetBulk, NonRepeaters: 9, MaxRepetitions: 3, Ranges: []SearchRange{{Start: m(1)}}},
			[]string{"1.3.6.1.2.1.68.1.1.0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := names(v.Answer(&tc.pdu, maxVarBinds))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A GetBulk asking for 65535 repetitions gets at most maxVarBinds.
func TestViewBulkBounded(t *testing.T) {
	var vbs []VarBind
	for i := range 1000 {
		vbs = append(vbs, VarBind{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1, 68, uint32(i)}})
	}
	v := NewView(vbs, nil)
	got := v.Answer(&PDU{Type: TypeGetBulk, MaxRepetitions: 65535, Ranges: []SearchRange{{Start: OID{1}}, {Start: OID{1}}}}, maxVarBinds)
	if len(got) != maxVarBinds {
		t.Fatalf("%d varbinds, want %d", len(got), maxVarBinds)
	}
}
