package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"govrrp/fsm"
	"govrrp/sim"
	"govrrp/vrrp"
)

// EntryType is what a line of the timeline is.
type EntryType uint8

// The timeline's entries.
const (
	EventEntry      EntryType = iota + 1 // an event of the scenario
	TransitionEntry                      // a state transition
	TakeoverEntry                        // a Master_Down_Timer (or Skew_Time) that ran out, measured
	AdvertEntry                          // an advert (see Options.AllAdverts)
	DropEntry                            // a receive check refused a sender's adverts
	BFDEntry                             // a Backup's BFD session to its Master (Sender) changed state
)

var entryNames = [...]string{EventEntry: "event", TransitionEntry: "transition", TakeoverEntry: "takeover", AdvertEntry: "advert", DropEntry: "drop", BFDEntry: "bfd"}

func (t EntryType) String() string {
	if int(t) < len(entryNames) && entryNames[t] != "" {
		return entryNames[t]
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// MarshalText writes the name, for JSON.
func (t EntryType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Since is what last restarted the Master_Down_Timer that a takeover
// measures.
type Since uint8

// What restarts a Backup's Master_Down_Timer [5798-6.4.2-h] [5798-6.4.2-i].
const (
	SinceStartup      Since = iota + 1 // it became Backup at startup
	SinceFaultCleared                  // it left Fault
	SinceAdvert                        // an advert it accepted
	SincePriorityZero                  // a Master's priority-0 advert (then Skew_Time runs)
)

var sinceNames = [...]string{SinceStartup: "startup", SinceFaultCleared: "fault-cleared", SinceAdvert: "advert", SincePriorityZero: "priority-0 advert"}

func (s Since) String() string {
	if int(s) < len(sinceNames) && sinceNames[s] != "" {
		return sinceNames[s]
	}
	return fmt.Sprintf("Since(%d)", uint8(s))
}

// MarshalText writes the name, for JSON.
func (s Since) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Entry is one line of the timeline; its JSON is the machine-readable
// timeline of govrrp simulate --json.
type Entry struct {
	At     time.Duration `json:"-"`
	AtMS   float64       `json:"at_ms"`
	Type   EntryType     `json:"type"`
	Router string        `json:"router,omitempty"` // drop: the receiver
	Event  string        `json:"event,omitempty"`  // event: for people, e.g. "link-down r1 (the Master)"
	Action Kind          `json:"action,omitempty"` // event
	From   string        `json:"from,omitempty"`
	To     string        `json:"to,omitempty"`
	Reason string        `json:"reason,omitempty"`
	// Priority: the advert's (advert), the router's in the timer (takeover).
	Priority *uint8 `json:"priority,omitempty"`

	// takeover: the timer ran TookMS after what restarted it (After, from
	// AfterRouter); the RFC's value of that timer; how long no router was
	// Master, when one was before.
	After       Since    `json:"after,omitempty"`
	AfterRouter string   `json:"after_router,omitempty"`
	AfterMS     *float64 `json:"after_ms,omitempty"` // when that advert was sent, or the router started
	TookMS      *float64 `json:"took_ms,omitempty"`
	Timer       string   `json:"timer,omitempty"` // Master_Down_Interval, Skew_Time
	TimerMS     *float64 `json:"timer_ms,omitempty"`
	IntervalMS  *float64 `json:"master_adver_interval_ms,omitempty"`
	NoMasterMS  *float64 `json:"no_master_ms,omitempty"`

	// drop: a receive check refused Sender's adverts (the first of Count).
	Sender string `json:"sender,omitempty"`
	Count  int    `json:"count,omitempty"`

	// The same, exact, for rendering.
	AfterAt   time.Duration `json:"-"`
	Took      time.Duration `json:"-"`
	TimerVal  time.Duration `json:"-"`
	Interval  time.Duration `json:"-"`
	NoMaster  time.Duration `json:"-"`
	FirstEver bool          `json:"-"` // takeover: no router was Master before
	HeardLast bool          `json:"-"` // takeover: the advert it counts from was the sender's last
	Text      string        `json:"-"` // drop: the receive check's error
}

// MS is d in milliseconds, as the JSON writes times.
func MS(d time.Duration) float64 { return float64(d) / 1e6 }

func msp(d time.Duration) *float64 { f := MS(d); return &f }

// MasterAt is a router in Master at the end of a phase.
type MasterAt struct {
	Router   string        `json:"router"`
	Priority uint8         `json:"priority"`
	SinceMS  float64       `json:"since_ms"`
	Since    time.Duration `json:"-"`
}

// Phase is the time from one event (or the start) to the next.
type Phase struct {
	At      time.Duration `json:"-"`
	AtMS    float64       `json:"at_ms"`
	Events  []string      `json:"events"`
	Masters []MasterAt    `json:"masters"` // at its end; several is split brain
}

// Outcome is a router at the end of the run.
type Outcome struct {
	Final             fsm.State
	Crashed, LinkDown bool
	Installed         bool // holds the virtual addresses
	AdvertsSent       uint64
	MasterTransitions uint32
	Drops             int // adverts refused by the receive checks
}

// Result is what happened.
type Result struct {
	Scenario *Scenario
	Timeline []*Entry
	Phases   []*Phase
	Routers  []Outcome // as Scenario.Routers
}

// Masters are the Masters at the end.
func (res *Result) Masters() []MasterAt { return res.Phases[len(res.Phases)-1].Masters }

// Options change what Run records.
type Options struct {
	AllAdverts bool // every advert, not only the first of each new Master, priority changes and priority-0 adverts
}

// base is what last (re)started a Backup's Master_Down_Timer.
type base struct {
	at   time.Duration
	what Since
	from int
}

type runner struct {
	Result
	lan *sim.LAN
	opt Options

	state        []fsm.State
	crashed      []bool
	base         []base
	lastPrio     []int
	lastSent     []time.Duration // of each router's last advert with a priority
	firstAdvert  []bool
	masterSince  []time.Duration
	hadMaster    bool
	masterless   bool
	noMasterFrom time.Duration
	drops        map[[2]int]map[string]*Entry
	acted        []int           // per event: the router it acted on, or -1
	bfdDown      []sim.BFDChange // per router: its session's last failure
}

// Run plays sc in the simulator.
func Run(sc *Scenario, opt Options) (res *Result, err error) {
	defer func() {
		// A livelock guard in the simulator panics rather than hang.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("the simulation stopped: %v", p)
		}
	}()
	if slices.ContainsFunc(sc.Routers, func(r Router) bool { return r.Config.VRID == 0 }) || len(sc.Routers) == 0 {
		if err := sc.Resolve(); err != nil {
			return nil, err
		}
	}
	n := len(sc.Routers)
	r := &runner{
		Result: Result{Scenario: sc}, lan: sim.New(sc.Seed), opt: opt, crashed: make([]bool, n),
		state: make([]fsm.State, n), base: make([]base, n), lastPrio: make([]int, n), lastSent: make([]time.Duration, n),
		firstAdvert: make([]bool, n), masterSince: make([]time.Duration, n),
		drops: map[[2]int]map[string]*Entry{}, acted: make([]int, len(sc.Events)), bfdDown: make([]sim.BFDChange, n),
	}
	l := r.lan
	for i, rt := range sc.Routers {
		if _, err := l.Add(rt.Config); err != nil {
			return nil, fmt.Errorf("router %s: %w", rt.Name, err)
		}
		r.state[i], r.lastPrio[i] = fsm.Initialize, -1
		if rt.BFD != nil {
			l.SetBFD(i, rt.BFD.Session())
		}
	}
	l.OnBFD = r.bfdChange
	l.SetLoss(sc.Loss)
	l.SetDelay(sc.Delay)
	l.OnTransition = r.transition
	l.OnAdvert = r.advert
	l.OnDelivery = r.delivery
	r.Phases = []*Phase{{Events: []string{"start"}}}
	for i, rt := range sc.Routers {
		if rt.Start == 0 && !rt.Never {
			l.Start(i)
		}
	}
	for k := range sc.Events {
		l.At(sc.Events[k].At, func() { r.fire(k) })
	}
	l.Run(sc.Duration)
	r.closePhase()
	for i := range sc.Routers {
		nd := l.Node(i)
		st := nd.Router.Status()
		o := Outcome{Final: r.state[i], Crashed: r.crashed[i], LinkDown: nd.LinkDown, Installed: nd.Installed,
			AdvertsSent: st.Counters.SentAdvertisements, MasterTransitions: st.Counters.MasterTransitions}
		for _, v := range nd.Drops {
			o.Drops += v
		}
		r.Routers = append(r.Routers, o)
	}
	return &r.Result, nil
}

func (r *runner) name(i int) string { return r.Scenario.Routers[i].Name }

func (r *runner) add(e *Entry) *Entry {
	e.AtMS = MS(e.At)
	r.Timeline = append(r.Timeline, e)
	return e
}

func (r *runner) liveMasters() int {
	n := 0
	for i, s := range r.state {
		if s == fsm.Master && !r.crashed[i] {
			n++
		}
	}
	return n
}

// noteMasters starts the count of time without a Master.
func (r *runner) noteMasters() {
	if r.hadMaster && !r.masterless && r.liveMasters() == 0 {
		r.masterless, r.noMasterFrom = true, r.lan.Now()
	}
}

func (r *runner) transition(t sim.Transition) {
	i := t.Router
	r.state[i] = t.To
	r.add(&Entry{At: t.At, Type: TransitionEntry, Router: r.name(i), From: t.From.String(), To: t.To.String(), Reason: t.Reason.String()})
	if t.To == fsm.Backup && t.From != fsm.Master {
		what := SinceStartup
		if t.Reason == fsm.ReasonFaultCleared {
			what = SinceFaultCleared
		}
		r.base[i] = base{at: t.At, what: what, from: i}
	}
	if t.To != fsm.Master {
		r.noteMasters()
		return
	}
	r.firstAdvert[i], r.masterSince[i] = true, t.At
	switch t.Reason {
	case fsm.ReasonMasterNoResponse, fsm.ReasonPriorityZero, fsm.ReasonPreempted, fsm.ReasonBFDMasterDown:
		r.takeover(t)
	}
	r.masterless, r.hadMaster = false, true
}

// takeover measures a Master_Down_Timer that ran out.
func (r *runner) takeover(t sim.Transition) {
	i := t.Router
	st := r.lan.Node(i).Router.Status()
	b := r.base[i]
	prio := st.Priority
	e := &Entry{At: t.At, Type: TakeoverEntry, Router: r.name(i), Priority: &prio, After: b.what,
		TookMS: msp(t.At - b.at), Timer: "Master_Down_Interval", TimerMS: msp(st.MasterDownInterval),
		IntervalMS: msp(st.MasterAdverInterval), AfterAt: b.at, Took: t.At - b.at, TimerVal: st.MasterDownInterval,
		Interval: st.MasterAdverInterval, FirstEver: !r.hadMaster, HeardLast: true}
	switch t.Reason {
	case fsm.ReasonPriorityZero:
		e.Timer, e.TimerMS, e.TimerVal = "Skew_Time", msp(st.SkewTime), st.SkewTime
	case fsm.ReasonBFDMasterDown:
		// The session's detection time, not a VRRP timer
		// (draft-ietf-rtgwg-vrrp-bfd-p2p).
		d := r.bfdDown[i]
		e.Timer, e.TimerMS, e.TimerVal = "BFD detection time", msp(d.Detection), d.Detection
	}
	e.AfterMS = msp(b.at)
	if b.what == SinceAdvert || b.what == SincePriorityZero {
		e.AfterRouter = r.name(b.from)
		e.HeardLast = b.what != SinceAdvert || r.lastSent[b.from] == b.at
	}
	if r.masterless {
		e.NoMaster = t.At - r.noMasterFrom
		e.NoMasterMS = msp(e.NoMaster)
	}
	r.add(e)
}

func (r *runner) advert(a sim.Advert) {
	i := a.Router
	show := r.opt.AllAdverts || a.Priority == 0 || r.firstAdvert[i] || int(a.Priority) != r.lastPrio[i]
	r.firstAdvert[i], r.lastPrio[i] = false, int(a.Priority)
	if a.Priority > 0 {
		r.lastSent[i] = a.At
	}
	if show {
		p := a.Priority
		r.add(&Entry{At: a.At, Type: AdvertEntry, Router: r.name(i), Priority: &p})
	}
}

// delivery follows what restarts each Backup's Master_Down_Timer
// [5798-6.4.2-h] [5798-6.4.2-i] [5798-6.4.3-j], and reports receive checks
// that refuse adverts.
func (r *runner) delivery(d sim.Delivery) {
	if d.Err != nil {
		key := [2]int{d.To, d.From}
		if r.drops[key] == nil {
			r.drops[key] = map[string]*Entry{}
		}
		reason := vrrp.Reason(d.Err)
		e := r.drops[key][reason]
		if e == nil {
			e = r.add(&Entry{At: d.At, Type: DropEntry, Router: r.name(d.To), Sender: r.name(d.From), Reason: reason,
				Text: strings.TrimPrefix(d.Err.Error(), "vrrp: ")})
			r.drops[key][reason] = e
		}
		e.Count++
		return
	}
	n := r.lan.Node(d.To)
	st := n.Router.Status()
	switch st.State {
	case fsm.Backup:
		preempt := (n.Config.Preempt || st.Owner) && !st.PreemptHold
		switch {
		case d.Priority == 0:
			r.base[d.To] = base{at: d.Sent, what: SincePriorityZero, from: d.From}
		case !preempt || d.Priority >= st.Priority:
			r.base[d.To] = base{at: d.Sent, what: SinceAdvert, from: d.From}
		}
	case fsm.Master:
		src := r.lan.Node(d.From).Config.Primary
		if d.Priority > st.Priority || (d.Priority == st.Priority && src.Compare(st.Primary) > 0) {
			r.base[d.To] = base{at: d.Sent, what: SinceAdvert, from: d.From}
		}
	}
}

// best is the Master that "master" names: the best of the live Masters.
func (r *runner) best() int {
	w := -1
	for _, i := range r.lan.Masters() {
		if w < 0 || r.better(i, w) {
			w = i
		}
	}
	return w
}

func (r *runner) better(a, b int) bool {
	pa, pb := r.lan.Node(a).Router.Status().Priority, r.lan.Node(b).Router.Status().Priority
	if pa != pb {
		return pa > pb
	}
	return r.lan.Node(a).Config.Primary.Compare(r.lan.Node(b).Config.Primary) > 0
}

// index is the router named name, or the best Master for Master.
func (r *runner) index(name string) int {
	if name == Master {
		return r.best()
	}
	return slices.IndexFunc(r.Scenario.Routers, func(rt Router) bool { return rt.Name == name })
}

func (r *runner) closePhase() {
	ph := r.Phases[len(r.Phases)-1]
	ph.Masters = []MasterAt{}
	for _, i := range r.lan.Masters() {
		ph.Masters = append(ph.Masters, MasterAt{Router: r.name(i), Priority: r.lan.Node(i).Router.Status().Priority,
			SinceMS: MS(r.masterSince[i]), Since: r.masterSince[i]})
	}
}

// fire runs event k at its time.
func (r *runner) fire(k int) {
	ev := &r.Scenario.Events[k]
	l := r.lan
	now := l.Now()
	if ph := r.Phases[len(r.Phases)-1]; ph.At < now {
		r.closePhase()
		r.Phases = append(r.Phases, &Phase{At: now, AtMS: MS(now)})
	}
	r.acted[k] = -1
	target, label := -1, ev.Kind.String()
	switch ev.Kind {
	case Crash, Restart, Stop, Start, LinkDown, LinkUp:
		switch {
		case ev.Ref > 0:
			target = r.acted[ev.Ref-1]
			if target < 0 {
				label += ": nothing to do (no router was taken down)"
			}
		case ev.Target == Master:
			target = r.best()
			if target < 0 {
				label += " master: there is no Master"
			}
		default:
			target = r.index(ev.Target)
		}
		if target >= 0 {
			label += " " + r.name(target)
			if ev.Target == Master {
				label += " (the Master)"
			}
		}
	case SetPriority:
		var parts []string
		for _, p := range ev.Priorities {
			name := p.Router
			if name == Master {
				if i := r.best(); i >= 0 {
					name = r.name(i) + " (the Master)"
				}
			}
			parts = append(parts, fmt.Sprintf("%s %d", name, p.Priority))
		}
		label += " " + strings.Join(parts, ", ")
	case Partition:
		for _, g := range ev.Groups {
			label += " [" + strings.Join(g, " ") + "]"
		}
	case SetLoss:
		label += " " + strconv.FormatFloat(ev.Loss, 'g', -1, 64)
	case SetDelay:
		label += " " + ev.Delay.String()
	}
	ph := r.Phases[len(r.Phases)-1]
	ph.Events = append(ph.Events, label)
	ee := r.add(&Entry{At: now, Type: EventEntry, Event: label, Action: ev.Kind})
	if target >= 0 {
		ee.Router = r.name(target)
	}
	r.acted[k] = target

	if target >= 0 {
		switch ev.Kind {
		case Crash:
			r.crashed[target] = true
			l.Crash(target)
			r.noteMasters()
		case Restart:
			r.crashed[target], r.state[target] = false, fsm.Initialize
			l.Restart(target)
		default:
			map[Kind]func(int){Stop: l.Stop, Start: l.Start, LinkDown: l.LinkDown, LinkUp: l.LinkUp}[ev.Kind](target)
		}
	}
	switch ev.Kind {
	case SetPriority:
		for _, p := range ev.Priorities {
			if i := r.index(p.Router); i >= 0 {
				l.SetPriority(i, p.Priority)
			}
		}
	case Partition:
		var groups [][]int
		for _, g := range ev.Groups {
			var ids []int
			for _, name := range g {
				ids = append(ids, r.index(name))
			}
			groups = append(groups, ids)
		}
		l.Partition(groups...)
	case Heal:
		l.Heal()
	case SetLoss:
		l.SetLoss(ev.Loss)
	case SetDelay:
		l.SetDelay(ev.Delay)
	}
}

// bfdChange records the state changes of the Backups' sessions to their
// Masters; the Masters' passive ends say the same from the other side.
func (r *runner) bfdChange(c sim.BFDChange) {
	if !c.Backup {
		return
	}
	if c.Failure {
		r.bfdDown[c.Router] = c
	}
	r.add(&Entry{At: c.At, Type: BFDEntry, Router: r.name(c.Router), Sender: r.name(c.Peer), From: c.From.String(),
		To: c.To.String(), Reason: c.Diag.String()})
}
