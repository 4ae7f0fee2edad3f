package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// Disable and enable: idempotent (Changed says whether anything changed),
// 404 for a router the daemon does not run.
func TestDisableEnable(t *testing.T) {
	c := serve(t, &fakeBackend{})
	ctx := context.Background()
	for _, step := range []struct {
		disable bool
		want    AdminResult
	}{
		{true, AdminResult{Router: "gw", Disabled: true, Changed: true, State: "Initialize"}},
		{true, AdminResult{Router: "gw", Disabled: true, Changed: false, State: "Initialize"}},
		{false, AdminResult{Router: "gw", Disabled: false, Changed: true, State: "Master"}},
		{false, AdminResult{Router: "gw", Disabled: false, Changed: false, State: "Master"}},
	} {
		f := c.Enable
		if step.disable {
			f = c.Disable
		}
		if got, err := f(ctx, "gw"); err != nil || got != step.want {
			t.Fatalf("disable=%v: %+v %v, want %+v", step.disable, got, err, step.want)
		}
	}
	for _, f := range []func(context.Context, string) (AdminResult, error){c.Disable, c.Enable} {
		if _, err := f(ctx, "nope"); !IsNotFound(err) || !strings.Contains(err.Error(), `no router named "nope"`) {
			t.Errorf("unknown router: %v", err)
		}
	}
	// Only POST changes anything.
	if err := c.do(ctx, http.MethodGet, "/v1/routers/gw/disable", &AdminResult{}); err == nil {
		t.Error("GET disable accepted")
	}
}

// The log level: GET shows it, PUT (and POST) set it, a name that is not a
// level is refused with 400 and the valid ones.
func TestLogLevel(t *testing.T) {
	b := &fakeBackend{}
	c := serve(t, b)
	ctx := context.Background()
	if l, err := c.LogLevel(ctx); err != nil || l != "info" {
		t.Fatalf("LogLevel: %q %v", l, err)
	}
	if l, err := c.SetLogLevel(ctx, "debug"); err != nil || l != "debug" || b.level != "debug" {
		t.Fatalf("SetLogLevel debug: %q %v", l, err)
	}
	_, err := c.SetLogLevel(ctx, "verbose")
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "debug, info, warn, error") {
		t.Fatalf("SetLogLevel verbose: %v", err)
	}
	if b.level != "debug" {
		t.Fatalf("a refused level changed it to %q", b.level)
	}
	var out LogLevel
	if err := c.send(ctx, http.MethodPost, "/v1/log-level", LogLevel{Level: "warn"}, &out); err != nil || out.Level != "warn" {
		t.Fatalf("POST: %+v %v", out, err)
	}
	if err := c.send(ctx, http.MethodPut, "/v1/log-level", "not an object", &out); err == nil || !strings.Contains(err.Error(), `{"level":"debug"}`) {
		t.Fatalf("bad body: %v", err)
	}
}

func TestParseLogLevel(t *testing.T) {
	for _, name := range LogLevels {
		l, err := ParseLogLevel(name)
		if err != nil || LevelName(l) != name {
			t.Errorf("%s: %v %v (%s)", name, l, err, LevelName(l))
		}
	}
	for _, bad := range []string{"", "DEBUG", "info+2", "trace"} {
		if _, err := ParseLogLevel(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
