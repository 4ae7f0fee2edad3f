package track

import (
	"context"
	"log/slog"
	"syscall"
	"time"

	"govrrp/internal/proc"
)

// Script runs one tracking script every Interval, without a shell, and
// reports state changes after rise/fall hysteresis.
type Script struct {
	Name     string
	Argv     []string
	Interval time.Duration
	Timeout  time.Duration
	Rise     int
	Fall     int
	Log      *slog.Logger
	Cred     *syscall.Credential // run as this user and group; nil: the daemon's
	// InitUnknown: the first result decides at once (keepalived without
	// init_fail); otherwise the script starts failed and needs Rise
	// successes.
	InitUnknown bool
}

// Run checks until ctx is done, calling changed with the new state (failed
// or not) after each transition of the debounced state, starting with the
// first one. A run that outlives Timeout, or ctx, is killed with its whole
// process group, so a check that forks cannot leave children behind.
func (s *Script) Run(ctx context.Context, changed func(failed bool)) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	h := NewHysteresis(s.Rise, s.Fall)
	if s.InitUnknown {
		h = NewHysteresisUnknown(s.Rise, s.Fall)
	}
	reported := false
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	for {
		ok, out, err := s.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Debug("track script ran", "script", s.Name, "ok", ok, "err", err, "output", out)
		if failed, flipped := h.Observe(ok); flipped || !reported {
			reported = true
			changed(failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runOnce runs the script once; ok is exit status 0 within the timeout. out
// is bounded (proc.MaxOutput), whatever the script prints.
func (s *Script) runOnce(ctx context.Context) (ok bool, out string, err error) {
	r := proc.RunAs(ctx, s.Argv, nil, s.Timeout, s.Cred)
	return r.Err == nil, r.Output, r.Err
}
