package keepalived

import "testing"

// track_bfd weights: govrrp's translation gives the same priority as
// keepalived's (vrrp_track.c initialise_track_bfd_state) with the session
// Up and down, for every sign of the weight, with and without reverse; 0
// (Fault) follows reverse.
func TestConvertBFDWeights(t *testing.T) {
	const base = 100
	// keepalived: W > 0 adds W*m while Up, W < 0 adds W*m while down, m -1
	// with reverse; W 0 is Fault while Up == reverse.
	keepalived := func(w int, rev, up bool) (int, bool) {
		m := 1
		if rev {
			m = -1
		}
		switch {
		case w == 0:
			return base, up == rev
		case w > 0 && up, w < 0 && !up:
			return base + w*m, false
		}
		return base, false
	}
	for _, w := range []int{-20, 0, 30} {
		for _, rev := range []bool{false, true} {
			r := &router{priority: base, trackBFD: []bfdTrack{{name: "s", weight: w, reverse: rev}}}
			r.priority += bfdBump(r.trackBFD)
			it := r.trackBFD[0]
			if it.weight > 0 {
				t.Errorf("W %d reverse %v: govrrp weight %d, want none positive", w, rev, it.weight)
			}
			for _, up := range []bool{true, false} {
				failed := up == it.reverse
				got, fault := r.priority, false
				if failed {
					if it.weight == 0 {
						fault = true
					} else {
						got += it.weight
					}
				}
				wantP, wantFault := keepalived(w, rev, up)
				if fault != wantFault || !fault && got != wantP {
					t.Errorf("W %d reverse %v Up %v: govrrp %d (fault %v), keepalived %d (fault %v)", w, rev, up, got, fault, wantP, wantFault)
				}
			}
		}
	}
}
