package daemon

import (
	"testing"
	"time"

	"govrrp/internal/config"
)

// A reload that removes no tracking script leaves every script running
// (stopScripts(nil) means all of them: a reload used to pass it its empty
// list of removed scripts, and every script stopped, freezing the tracked
// state at its last value); one the reload removes stops.
func TestReloadKeepsScriptsRunning(t *testing.T) {
	r := routerCfg("a", 1, 100, 10*time.Millisecond)
	r.Track.Scripts = []config.TrackItem{{Name: "chk", Weight: -10}}
	cfg := func(names ...string) *config.Config {
		c := &config.Config{Routers: []config.Router{r}, Scripts: map[string]config.Script{}}
		for _, n := range names {
			c.Scripts[n] = config.Script{Exec: []string{"/bin/true"}, Interval: time.Hour, Timeout: time.Second, Rise: 1, Fall: 1}
		}
		return c
	}
	d, _ := fakeDaemon(cfg("chk", "other"))
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	running := func(name string) bool {
		d.mu.RLock()
		run := d.scripts[name]
		d.mu.RUnlock()
		if run == nil {
			return false
		}
		select {
		case <-run.done:
			return false
		default:
			return true
		}
	}
	d.Apply(cfg("chk", "other"))
	if !running("chk") || !running("other") {
		t.Fatalf("after a reload that removed none: chk running %v, other %v", running("chk"), running("other"))
	}
	d.Apply(cfg("chk"))
	if !running("chk") || running("other") {
		t.Fatalf("after a reload that removed other: chk running %v, other %v", running("chk"), running("other"))
	}
}
