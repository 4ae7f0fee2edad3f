package probe

import "time"

// Gap is one silence between echo replies: the outage a host saw.
type Gap struct {
	From, To  time.Time     // the replies on either side (see LongestGap for the edges)
	Len       time.Duration // To - From
	Recovered bool          // a reply ended it within the window
}

// LongestGap is the one definition of an outage (docs/BENCHMARKS.md, "What
// an outage is"): the longest time between two consecutive echo replies
// among the silences that end after from and begin before to. The silence
// running at from begins at the last reply before from, not at from: the
// host does not know when the failure happened, only when it last heard an
// answer. With no reply before from at all, it begins at from. The silence
// after the last reply up to to counts too; when it is the longest,
// Recovered is false and To is to.
//
// replies must be sorted. A window without loss reads about one probe
// interval; the figure overstates the real interruption by less than two
// intervals (see the package comment).
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
	if tail := to.Sub(prev); !found || tail > g.Len {
		return Gap{From: prev, To: to, Len: tail}
	}
	return g
}
