// Package notify runs the operator's hooks on every transition of a virtual
// router: each hook's argv plus ROUTER FROM TO REASON, the same in the
// environment, no shell, one at a time and in order per router, each with a
// timeout, never blocking the state machine that reports the transition.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
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

// MaxPending bounds the events waiting for slow hooks. Past it the oldest
// pending event is dropped (and logged): the newest state matters most.
const MaxPending = 64

// Runner runs hooks for one virtual router.
type Runner struct {
	hooks   [][]string
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
	dropped uint64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// New starts a Runner for hooks (each an argv). Close stops it.
func New(hooks [][]string, timeout time.Duration, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{hooks: hooks, timeout: timeout, log: log, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go r.loop()
	return r
}

// Notify queues ev and returns at once.
func (r *Runner) Notify(ev Event) {
	if len(r.hooks) == 0 {
		return
	}
	r.mu.Lock()
	if len(r.pending) >= MaxPending {
		r.log.Warn("notify hooks are too slow; dropping the oldest pending event", "router", ev.Router, "dropped_from", r.pending[0].From, "dropped_to", r.pending[0].To)
		r.pending = r.pending[1:]
		r.dropped++
	}
	r.pending = append(r.pending, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Dropped returns how many events were dropped because hooks were too slow.
func (r *Runner) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close runs what is still pending (each hook bounded by its timeout) unless
// ctx ends first, which kills the running hook, then stops the Runner.
func (r *Runner) Close(ctx context.Context) {
	stop := context.AfterFunc(ctx, r.cancel)
	defer stop()
	r.mu.Lock()
	r.pending = append(r.pending, Event{}) // sentinel: stop after the rest
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	<-r.done
	r.cancel()
}

func (r *Runner) loop() {
	defer close(r.done)
	for {
		r.mu.Lock()
		if len(r.pending) == 0 {
			r.mu.Unlock()
			select {
			case <-r.wake:
				continue
			case <-r.ctx.Done():
				return
			}
		}
		ev := r.pending[0]
		r.pending = r.pending[1:]
		r.mu.Unlock()
		if ev.Router == "" { // Close's sentinel
			return
		}
		for _, argv := range r.hooks {
			if r.ctx.Err() != nil {
				return
			}
			r.run(argv, ev)
		}
	}
}

func (r *Runner) run(argv []string, ev Event) {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	args := append(append([]string{}, argv[1:]...), ev.Router, ev.From, ev.To, ev.Reason)
	cmd := exec.CommandContext(ctx, argv[0], args...)
	cmd.Env = append(os.Environ(), ev.env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.log.Warn("notify hook timed out and was killed", "router", ev.Router, "hook", argv[0], "timeout", r.timeout)
	case err != nil:
		r.log.Warn("notify hook failed", "router", ev.Router, "hook", argv[0], "err", err, "output", string(out))
	default:
		r.log.Debug("notify hook ran", "router", ev.Router, "hook", argv[0], "to", ev.To, "output", string(out))
	}
}
