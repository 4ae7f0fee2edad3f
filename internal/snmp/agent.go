package snmp

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"govrrp/internal/agentx"
	"govrrp/internal/api"
)

// Source is what the subagent reads of the daemon: the API's snapshots and
// its event stream. It never touches the event loops otherwise.
type Source interface {
	Details() []api.RouterDetail
	Interfaces() []api.InterfaceStatus
	Router(name string) (api.RouterDetail, bool)
	Subscribe(ctx context.Context, history int) ([]api.Event, <-chan api.Event)
}

// Options configure the subagent.
type Options struct {
	// Address of snmpd's AgentX socket: a path, or tcp:HOST:PORT.
	Address string
	Log     *slog.Logger
	// Refresh: a snapshot is reused for this long, so a walk costs the
	// daemon one snapshot, not one per object. Default 1s.
	Refresh time.Duration
	// IfIndex resolves interface names (default: the kernel's index).
	IfIndex func(string) (uint32, bool)
	// Agent tunes the AgentX session (tests shorten its timers).
	Agent agentx.Config
}

// maxProtoErr bounds the remembered protocol errors: one per router, and
// routers are bounded by the configuration; this only guards a stream of
// events for names that come and go.
const maxProtoErr = 4096

// Subagent serves the MIBs.
type Subagent struct {
	src  Source
	opt  Options
	ax   *agentx.Agent
	mu   sync.Mutex
	view *agentx.View
	at   time.Time
	// protoErr is vrrpv3StatisticsProtoErrReason by router.
	protoErr map[string]uint32
}

// New returns a subagent; Run starts it.
func New(src Source, opt Options) *Subagent {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Refresh <= 0 {
		opt.Refresh = time.Second
	}
	if opt.IfIndex == nil {
		opt.IfIndex = kernelIfIndex
	}
	s := &Subagent{src: src, opt: opt, protoErr: map[string]uint32{}}
	cfg := opt.Agent
	cfg.Address = opt.Address
	cfg.ID = agentx.OID{1, 3, 6, 1, 2, 1, 207}
	cfg.Descr = "govrrpd VRRP subagent (VRRPv3-MIB, VRRP-MIB)"
	cfg.Subtrees = []agentx.OID{VRRPMIB, VRRPv3MIB}
	cfg.View = s.current
	cfg.Log = opt.Log
	s.ax = agentx.New(cfg)
	return s
}

func kernelIfIndex(name string) (uint32, bool) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, false
	}
	return uint32(ifi.Index), true
}

// Connected says whether the master has us registered now.
func (s *Subagent) Connected() bool { return s.ax.Connected() }

// Run serves until ctx ends: the AgentX session (reconnecting) and the
// notifications from the event stream.
func (s *Subagent) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.ax.Run(ctx) })
	wg.Go(func() { s.watch(ctx) })
	wg.Wait()
}

// current returns the view, rebuilt at most once per Refresh.
func (s *Subagent) current() *agentx.View {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.view != nil && now.Sub(s.at) < s.opt.Refresh {
		return s.view
	}
	cache := map[string]uint32{}
	in := Input{
		Routers: s.src.Details(), Interfaces: s.src.Interfaces(),
		IfIndex:   s.cachedIfIndex(cache),
		Ticks:     s.ax.Ticks,
		Now:       now,
		ProtoErr:  s.protoErr,
		RefreshMS: uint32(s.opt.Refresh / time.Millisecond),
	}
	s.view = agentx.NewView(Build(in), Objects())
	s.at = now
	return s.view
}

func (s *Subagent) cachedIfIndex(cache map[string]uint32) func(string) (uint32, bool) {
	return func(name string) (uint32, bool) {
		if i, ok := cache[name]; ok {
			return i, i != 0
		}
		i, ok := s.opt.IfIndex(name)
		if !ok {
			i = 0
		}
		cache[name] = i
		return i, ok
	}
}

// watch turns events into notifications; a stream cut for falling behind
// is opened again.
func (s *Subagent) watch(ctx context.Context) {
	for ctx.Err() == nil {
		_, ch := s.src.Subscribe(ctx, 0)
		for ev := range ch {
			s.event(&ev)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Subagent) event(ev *api.Event) {
	switch {
	case ev.Type == "transition" && ev.To == "Master":
	case ev.Type == "discards":
	default:
		return
	}
	r, ok := s.src.Router(ev.Router)
	if !ok {
		return
	}
	w, ok := RowOf(&r, s.opt.IfIndex)
	if !ok {
		return
	}
	if ev.Type == "transition" {
		s.ax.Notify(NewMasterV3(&r, w))
		if w.InV2 {
			s.ax.Notify(NewMasterV2(&r, w))
		}
		return
	}
	if reason, ok := ProtoErrReason(ev.Reason); ok {
		s.mu.Lock()
		if _, known := s.protoErr[r.Name]; known || len(s.protoErr) < maxProtoErr {
			s.protoErr[r.Name] = reason
		}
		s.mu.Unlock()
		s.ax.Notify(ProtoErrorV3(w, reason))
	}
	if t, ok := AuthErrorType(ev.Reason); ok && w.InV2 {
		s.ax.Notify(AuthFailureV2(w, t, ev.Source))
	}
}
