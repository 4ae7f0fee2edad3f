package lab

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms ...float64) []time.Time {
	out := make([]time.Time, len(ms))
	for i, m := range ms {
		out[i] = t0.Add(time.Duration(m * float64(time.Millisecond)))
	}
	return out
}

func ms(m float64) time.Duration { return time.Duration(m * float64(time.Millisecond)) }

func TestLongestGap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replies   []time.Time
		from, to  float64
		want      time.Duration
		gapFrom   float64
		recovered bool
	}{
		// Steady replies every 3 ms, an outage from 9 to 350 ms: the gap
		// runs from the last reply before the silence to the first after.
		{"outage", at(0, 3, 6, 9, 350, 353, 356), 5, 400, ms(341), 9, true},
		// The event happens mid-silence: the anchor is the last reply
		// before from, not from itself.
		{"anchor before from", at(0, 3, 300, 303), 4, 400, ms(297), 3, true},
		// No reply before from: the gap starts at from.
		{"no anchor", at(100, 103), 10, 110, ms(90), 10, true},
		// Nothing after the silence: it runs to the end and has not
		// recovered.
		{"not recovered", at(0, 3), 2, 500, ms(497), 3, false},
		{"nothing at all", nil, 0, 100, ms(100), 0, false},
		// Replies after to are outside the window.
		{"after window", at(0, 3, 6, 900), 1, 100, ms(94), 6, false},
		{"steady", at(0, 3, 6, 9, 12), 1, 12, ms(3), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := LongestGap(tc.replies, t0.Add(ms(tc.from)), t0.Add(ms(tc.to)))
			if g.Len != tc.want || g.Recovered != tc.recovered || !g.From.Equal(t0.Add(ms(tc.gapFrom))) {
				t.Fatalf("LongestGap = %v from %v recovered %v; want %v from %v recovered %v",
					g.Len, g.From.Sub(t0), g.Recovered, tc.want, ms(tc.gapFrom), tc.recovered)
			}
			if g.To.Sub(g.From) != g.Len {
				t.Fatalf("To - From = %v, Len %v", g.To.Sub(g.From), g.Len)
			}
		})
	}
}

func TestFormatDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0 ms",
		3 * time.Millisecond:    "3 ms",
		41406250:                "41.4 ms", // Skew_Time at 150, 100 ms
		341406250:               "341.4 ms",
		ms(99.96):               "100 ms",
		ms(4.04):                "4 ms",
		1250 * time.Millisecond: "1.25 s",
		2 * time.Second:         "2 s",
		-ms(12.5):               "-12.5 ms",
	} {
		if got := FormatDur(d); got != want {
			t.Errorf("FormatDur(%v) = %q, want %q", d, got, want)
		}
	}
	if got := FormatOffset(ms(341.4)); got != "+0.341 s" {
		t.Errorf("FormatOffset = %q", got)
	}
	if got := FormatOffset(-ms(3)); got != "-0.003 s" {
		t.Errorf("FormatOffset = %q", got)
	}
}

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
