// Package notify runs the operator's hooks on every transition of a virtual
// router (or a sync group): our own form, each hook's argv plus ROUTER FROM
// TO REASON, and keepalived's forms (Hooks), so its scripts run unchanged.
// The event is also in the environment; no shell, one at a time and in
// order per router, each with a timeout, never blocking the state machine
// that reports the transition. A hook's output is logged up to
// proc.MaxOutput bytes.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"govrrp/internal/proc"
)

// Event is one transition.
type Event struct {
	Router, From, To, Reason string
	Interface                string
	VRID                     uint8
	Family                   string // ipv4 | ipv6
	Priority                 uint8  // effective priority at the transition
}

func (e Event) env() []string {
	return []string{
		"GOVRRP_ROUTER=" + e.Router,
		"GOVRRP_FROM=" + e.From,
		"GOVRRP_TO=" + e.To,
		"GOVRRP_REASON=" + e.Reason,
		"GOVRRP_INTERFACE=" + e.Interface,
		fmt.Sprintf("GOVRRP_VRID=%d", e.VRID),
		"GOVRRP_FAMILY=" + e.Family,
		fmt.Sprintf("GOVRRP_PRIORITY=%d", e.Priority),
	}
}

// Hooks are the commands one Runner runs, each an argv.
type Hooks struct {
	// Notify: run on every transition with ROUTER FROM TO REASON appended.
	Notify [][]string
	// Master, Backup, Fault, Stop: keepalived's notify_master etc., run
	// unchanged (no arguments added) on entering that keepalived state.
	Master, Backup, Fault, Stop [][]string
	// Keepalived: keepalived's generic notify, run on entering a keepalived
	// state with TYPE NAME STATE PRIORITY appended.
	Keepalived [][]string
	// Type is keepalived's TYPE argument: "INSTANCE" (the default) for a
	// router, "GROUP" for a sync group (whose PRIORITY keepalived gives as 0).
	Type string
	// Cred: run every hook as this user and group (notify_user); nil: the
	// daemon's own.
	Cred *syscall.Credential
}

func (h *Hooks) empty() bool {
	return len(h.Notify)+len(h.Master)+len(h.Backup)+len(h.Fault)+len(h.Stop)+len(h.Keepalived) == 0
}

// KeepalivedState is the state keepalived would report for a transition to
// to (a fsm.State name) for reason, or "" when keepalived reports none: it
// has no Initialize, and passing through it (fault cleared, on the way to
// Backup) is not a state it shows. Leaving service (shutdown: the daemon
// stopping or the router removed; admin-disabled: govrrp disable) is STOP.
func KeepalivedState(to, reason string) string {
	switch to {
	case "Master":
		return "MASTER"
	case "Backup":
		return "BACKUP"
	case "Fault":
		return "FAULT"
	case "Initialize":
		if reason == "shutdown" || reason == "admin-disabled" {
			return "STOP"
		}
	}
	return ""
}

// MaxPending bounds the events waiting for slow hooks. Past it the oldest
// pending event is dropped (and logged): the newest state matters most.
const MaxPending = 64

// Runner runs hooks for one virtual router. It has a goroutine only while
// events are pending or running: none for a router without hooks, none for
// an idle one, so thousands of routers cost nothing between transitions.
type Runner struct {
	hooks   Hooks
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	pending []Event
	dropped uint64
	running chan struct{} // closed when the current goroutine ends; nil before the first
	busy    bool          // a goroutine is working through pending
	closed  bool
	after   <-chan struct{} // the hooks wait for it to close (After)

	ctx    context.Context // cancelled when Close gives up: kills the running hook
	cancel context.CancelFunc
}

// New returns a Runner for our own notify hooks (each an argv); see NewHooks.
func New(hooks [][]string, timeout time.Duration, log *slog.Logger) *Runner {
	return NewHooks(Hooks{Notify: hooks}, timeout, log)
}

// NewHooks returns a Runner for hooks, or nil when there are none (a nil
// Runner ignores Notify). It starts nothing until the first Notify; Close
// stops it. log is the router's (or group's): its lines do not repeat the
// name.
func NewHooks(hooks Hooks, timeout time.Duration, log *slog.Logger) *Runner {
	if hooks.empty() {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	if hooks.Type == "" {
		hooks.Type = "INSTANCE"
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{hooks: hooks, timeout: timeout, log: log, ctx: ctx, cancel: cancel}
}

// Notify queues ev and returns at once. Events after Close are ignored.
func (r *Runner) Notify(ev Event) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if len(r.pending) >= MaxPending {
		r.log.Warn("notify hooks are too slow; dropping the oldest pending event", "dropped_from", r.pending[0].From, "dropped_to", r.pending[0].To)
		r.pending = r.pending[1:]
		r.dropped++
	}
	r.pending = append(r.pending, ev)
	if !r.busy {
		// One goroutine at a time keeps the events in order.
		r.busy = true
		r.running = make(chan struct{})
		go r.loop(r.running)
	}
}

// After makes the hooks wait, before their first event, until done is
// closed (or Close gives up): a router's transitions follow the hooks an
// earlier runner still runs for it, without its starter waiting for them.
// Called before the first Notify.
func (r *Runner) After(done <-chan struct{}) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.after = done
	r.mu.Unlock()
}

// Dropped returns how many events were dropped because hooks were too slow.
func (r *Runner) Dropped() uint64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close runs what is still pending (each hook bounded by its timeout) unless
// ctx ends first, which kills the running hook and drops the rest, then
// stops the Runner.
func (r *Runner) Close(ctx context.Context) {
	if r == nil {
		return
	}
	stop := context.AfterFunc(ctx, r.cancel)
	defer stop()
	r.mu.Lock()
	r.closed = true
	running := r.running
	r.mu.Unlock()
	if running != nil {
		<-running
	}
	r.cancel()
}

// loop runs the pending events in order and ends when there are none.
func (r *Runner) loop(running chan struct{}) {
	defer close(running)
	r.mu.Lock()
	after := r.after
	r.after = nil
	r.mu.Unlock()
	if after != nil {
		select {
		case <-after:
		case <-r.ctx.Done():
		}
	}
	for {
		r.mu.Lock()
		if len(r.pending) == 0 || r.ctx.Err() != nil {
			r.pending = nil
			r.busy = false
			r.mu.Unlock()
			return
		}
		ev := r.pending[0]
		r.pending = r.pending[1:]
		r.mu.Unlock()
		r.runEvent(ev)
	}
}

// runEvent runs ev's hooks in keepalived's order (vrrp_notify.c): the
// notify_<state> ones, then its generic notify; then our own.
func (r *Runner) runEvent(ev Event) {
	env := append(os.Environ(), ev.env()...)
	if st := KeepalivedState(ev.To, ev.Reason); st != "" {
		var state [][]string
		switch st {
		case "MASTER":
			state = r.hooks.Master
		case "BACKUP":
			state = r.hooks.Backup
		case "FAULT":
			state = r.hooks.Fault
		case "STOP":
			state = r.hooks.Stop
		}
		for _, argv := range state {
			r.run(argv, nil, env, ev.To)
		}
		prio := strconv.Itoa(int(ev.Priority))
		if r.hooks.Type == "GROUP" {
			prio = "0"
		}
		for _, argv := range r.hooks.Keepalived {
			r.run(argv, []string{r.hooks.Type, ev.Router, st, prio}, env, ev.To)
		}
	}
	for _, argv := range r.hooks.Notify {
		r.run(argv, []string{ev.Router, ev.From, ev.To, ev.Reason}, env, ev.To)
	}
}

// run runs argv with extra appended, unless Close gave up.
func (r *Runner) run(argv, extra, env []string, to string) {
	if r.ctx.Err() != nil {
		return
	}
	args := append(append([]string{}, argv...), extra...)
	res := proc.RunAs(r.ctx, args, env, r.timeout, r.hooks.Cred)
	switch {
	case res.TimedOut:
		r.log.Warn("notify hook timed out and was killed", "hook", argv[0], "timeout", r.timeout, "output", res.Output)
	case res.Err != nil:
		r.log.Warn("notify hook failed", "hook", argv[0], "err", res.Err, "output", res.Output)
	default:
		r.log.Debug("notify hook ran", "hook", argv[0], "to", to, "output", res.Output)
	}
}
