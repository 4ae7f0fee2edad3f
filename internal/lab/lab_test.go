package lab

import "testing"

func TestParseBase(t *testing.T) {
	for name, want := range map[string]string{
		"gvlab1234-1-r1": "gvlab1234", "gvlab1234-r1": "gvlab1234", "gvlab7-host": "gvlab7", "gvlab1234-5678": "gvlab1234",
		"gvlab-r1": "", "gvlabx-r1": "", "gvlab1234": "", "gvt1234-1-r1": "", "gvlab012-r1": "",
	} {
		base, _, ok := ParseBase(name)
		if ok != (want != "") || base != want {
			t.Errorf("ParseBase(%q) = %q, %v; want %q", name, base, ok, want)
		}
	}
}
