package daemon

import (
	"testing"
	"time"

	"govrrp/fsm"
)

// A Master hearing another Master's adverts (a split brain) hands its
// worker one warning-and-event per episode, however many adverts arrive,
// and a new one after a quiet Master_Down_Interval; each announces the
// addresses again within the fsm's bound. Episodes faster than one a
// second are reported once a second with their count.
func TestLoopSplitBrainOneReportPerEpisode(t *testing.T) {
	lab := newStepLab(t)
	const iv = 100 * time.Millisecond
	r := lab.add(routerCfg("m", 1, 150, iv))
	lab.run(time.Second, nil)
	if st := r.fsm.Status(); st.State != fsm.Master {
		t.Fatalf("state %v", st.State)
	}
	count := func() (reports, announces int) {
		for _, e := range lab.effects {
			switch e.kind {
			case effConflict:
				if e.ev.Type != "split_brain" || e.ev.Router != "m" || e.src != peerA4 || e.ev.Priority != 100 {
					t.Errorf("report %+v", e)
				}
				reports++
			case effAnnounce:
				announces++
			}
		}
		return reports, announces
	}
	_, before := count()
	// 2 s of the other Master's adverts, ten times its rate.
	vip := vipOf(1)
	for at := time.Second; at < 3*time.Second; at += iv / 10 {
		lab.sock.deliver(pkt(advert(1, 100, peerA4, iv, vip), peerA4, at))
		lab.run(at, nil)
	}
	reports, announces := count()
	if reports != 1 {
		t.Fatalf("%d split-brain reports for one episode, want 1", reports)
	}
	if n := announces - before; n < 1 || n > 2 {
		t.Fatalf("%d announcements in 2 s of split brain, want 1..2 (one a second at most)", n)
	}
	// Quiet for more than Master_Down_Interval, then another episode.
	lab.run(4*time.Second, nil)
	lab.sock.deliver(pkt(advert(1, 100, peerA4, iv, vip), peerA4, 4*time.Second))
	lab.at(4 * time.Second)
	if reports, _ := count(); reports != 2 {
		t.Fatalf("%d reports after a second episode, want 2", reports)
	}
	if st := r.status(); st.SplitBrain == nil || st.SplitBrain.Episodes != 2 || !st.SplitBrain.Active || st.SplitBrain.Peers[0] != peerA4.String() {
		t.Fatalf("status split_brain %+v", st.SplitBrain)
	}
	// A peer that comes and goes faster than a second: one report a
	// second, counting the episodes between; status counts them all.
	for at := 5 * time.Second; at < 7*time.Second; at += 400 * time.Millisecond {
		lab.sock.deliver(pkt(advert(1, 100, peerA4, iv, vip), peerA4, at))
		lab.at(at)
	}
	if reports, _ := count(); reports != 4 {
		t.Fatalf("%d reports after 5 episodes in 2 s, want 2 more (one a second)", reports)
	}
	var last effect
	for _, e := range lab.effects {
		if e.kind == effConflict {
			last = e
		}
	}
	if last.count != 3 {
		t.Fatalf("the last report counts %d episodes, want 3", last.count)
	}
	if st := r.status(); st.SplitBrain.Episodes != 7 {
		t.Fatalf("status counts %d episodes, want 7", st.SplitBrain.Episodes)
	}
}
