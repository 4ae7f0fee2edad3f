// How the narration writes the outage figures (measured by internal/lab/probe)
// and the times of events.

package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
