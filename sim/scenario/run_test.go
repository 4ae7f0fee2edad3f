package scenario

import (
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
)

// entries are the timeline's entries of one type.
func entries(res *Result, t EntryType) []*Entry {
	var out []*Entry
	for _, e := range res.Timeline {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// A scenario written in Go, without YAML: the Master crashes, the LAN is
// partitioned and healed. The Backup takes over one Master_Down_Interval
// after the Master's last advert [5798-6.4.2-g]; each side of a partition
// elects its own Master (split brain); once healed, the lower-priority
// Master yields [5798-6.4.3-j].
func TestRunTyped(t *testing.T) {
	sc := &Scenario{Settings: Defaults(),
		Routers: []Router{{Name: "a", Priority: 200}, {Name: "b", Priority: 150}, {Name: "c", Priority: 100}},
		Events: []Event{
			{At: 10 * time.Second, Kind: Crash, Target: Master},
			{At: 20 * time.Second, Kind: Partition, Groups: [][]string{{"b"}, {"c"}}},
			{At: 30 * time.Second, Kind: Heal},
		}}
	res, err := Run(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration != 30*time.Second+sc.Settle() || sc.VRID != DefaultVRID {
		t.Errorf("resolved duration %v, VRID %d", sc.Duration, sc.VRID)
	}
	mdi := func(p uint8) time.Duration { return fsm.MasterDownInterval(3, p, time.Second) }
	tk := entries(res, TakeoverEntry)
	if len(tk) < 3 {
		t.Fatalf("takeovers %+v", tk)
	}
	// a at startup; b after a's last advert (9.21875s: a is Master from
	// 3.21875s, adverts each second); c when the partition cuts b off.
	if tk[0].Router != "a" || tk[0].After != SinceStartup || tk[0].Took != mdi(200) || !tk[0].FirstEver {
		t.Errorf("first takeover %+v", tk[0])
	}
	if tk[1].Router != "b" || tk[1].AfterRouter != "a" || !tk[1].HeardLast || tk[1].Took != mdi(150) || tk[1].TimerVal != mdi(150) ||
		tk[1].AfterAt != mdi(200)+6*time.Second || tk[1].NoMaster != tk[1].At-10*time.Second {
		t.Errorf("second takeover %+v", tk[1])
	}
	if tk[2].Router != "c" || tk[2].AfterRouter != "b" || tk[2].Took != mdi(100) {
		t.Errorf("third takeover %+v", tk[2])
	}
	var masters [][]string
	for _, p := range res.Phases {
		var ms []string
		for _, m := range p.Masters {
			ms = append(ms, m.Router)
		}
		masters = append(masters, ms)
	}
	if want := [][]string{{"a"}, {"b"}, {"b", "c"}, {"b"}}; !slices.EqualFunc(masters, want, slices.Equal) {
		t.Errorf("Masters per phase %v, want %v", masters, want)
	}
	ev := entries(res, EventEntry)
	if len(ev) != 3 || ev[0].Action != Crash || ev[0].Router != "a" || ev[0].Event != "crash a (the Master)" || ev[1].Event != "partition [b] [c]" {
		t.Errorf("events %+v %+v", ev[0], ev[1])
	}
	if o := res.Routers[0]; !o.Crashed || o.Final != fsm.Master {
		t.Errorf("a at the end: %+v", o)
	}
	if o := res.Routers[2]; o.Final != fsm.Backup || o.AdvertsSent == 0 || o.MasterTransitions != 1 {
		t.Errorf("c at the end: %+v", o)
	}
}

// The demo: the link-up acts on the router whose cable was pulled (Ref),
// found when the event fires, and a graceful stop's priority-0 advert lets
// the Backup take over after Skew_Time [5798-6.4.2-d].
func TestRunDemo(t *testing.T) {
	sc, err := Demo(Defaults(), []uint8{200, 100})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(sc, Options{AllAdverts: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := entries(res, EventEntry)
	if len(ev) != 3 || ev[0].Event != "link-down r1 (the Master)" || ev[1].Event != "link-up r1" || ev[2].Event != "stop r1 (the Master)" {
		t.Fatalf("events %v", ev)
	}
	tk := entries(res, TakeoverEntry)
	last := tk[len(tk)-1]
	if last.Router != "r2" || last.Timer != "Skew_Time" || last.Took != fsm.SkewTime(3, 100, time.Second) || last.After != SincePriorityZero {
		t.Errorf("last takeover %+v", last)
	}
	// Every advert is in the timeline with AllAdverts: about one per second.
	if n := len(entries(res, AdvertEntry)); n < int(sc.Duration/time.Second)-10 {
		t.Errorf("%d adverts in %v", n, sc.Duration)
	}
	if _, err := Demo(Defaults(), nil); err == nil {
		t.Error("a demo without routers")
	}
}

// Two Go-written scenarios that cannot run are refused, not played.
func TestRunRefuses(t *testing.T) {
	for _, sc := range []*Scenario{
		{Settings: Defaults()},
		{Settings: Settings{Version: 2, Interval: 500 * time.Millisecond, Seed: 1}, Routers: []Router{{Name: "x", Priority: 1}}},
	} {
		if res, err := Run(sc, Options{}); err == nil {
			t.Errorf("%+v ran: %+v", sc, res)
		}
	}
}
