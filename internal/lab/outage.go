package lab

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Gap is the longest silence between echo replies in a window: the outage
// a host saw.
type Gap struct {
	From, To  time.Time     // the replies on either side of the silence
	Len       time.Duration // To - From
	Recovered bool          // a reply came after the silence, within the window
}

// LongestGap finds the longest interval between consecutive replies that
// ends after from and starts before to. replies must be sorted; the last
// reply before from anchors a gap already running at from (with none, from
// itself does). The silence after the last reply, up to to, counts as well:
// when it is the longest, Recovered is false.
func LongestGap(replies []time.Time, from, to time.Time) Gap {
	prev := from
	i := 0
	for i < len(replies) && !replies[i].After(from) {
		prev = replies[i]
		i++
	}
	var g Gap
	found := false
	for ; i < len(replies) && !replies[i].After(to); i++ {
		if d := replies[i].Sub(prev); !found || d > g.Len {
			g = Gap{From: prev, To: replies[i], Len: d, Recovered: true}
		}
		found = true
		prev = replies[i]
	}
	// The silence still running at to counts too.
	if tail := to.Sub(prev); !found || tail > g.Len {
		return Gap{From: prev, To: to, Len: tail}
	}
	return g
}

// FormatDur writes a duration the way the narration does: "0 ms", "3 ms",
// "41.4 ms", "341.4 ms", "1.25 s". Tenths of a millisecond only below a
// second and only when not whole.
func FormatDur(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d >= time.Second:
		s = strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".") + " s"
	default:
		tenths := (d + 50*time.Microsecond) / (100 * time.Microsecond)
		if tenths%10 == 0 {
			s = fmt.Sprintf("%d ms", tenths/10)
		} else {
			s = fmt.Sprintf("%d.%d ms", tenths/10, tenths%10)
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// FormatOffset writes a time relative to an event: "+0.341 s".
func FormatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%.3f s", sign, d.Seconds())
}
