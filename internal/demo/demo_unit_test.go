package demo

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func TestRenderTable(t *testing.T) {
	boxes := []BoxView{
		{Name: "r1", Prio: 200, CableOut: true, Fams: [2]FamView{{State: "Fault"}, {State: "Fault"}}},
		{Name: "r2", Prio: 150, Fams: [2]FamView{{State: "Master"}, {State: "Master"}}},
		{Name: "r3", Prio: 100, Fams: [2]FamView{{State: "Backup", Master: "r2", MasterPrio: 150}, {State: "Initialize"}}},
		{Name: "r4", Prio: 50, Daemon: "stopped"},
	}
	pings := []PingView{
		{VIP: "10.77.0.254", Via: "r2", Replied: true, Started: true},
		{VIP: "fd77::254", Silent: ms(215.7), Started: true},
	}
	want := []string{
		"  router  prio  IPv4  VRID 51                 IPv6  VRID 51",
		"  r1       200  Fault (cable out)             Fault (cable out)",
		"  r2       150  Master                        Master",
		"  r3       100  Backup, master r2 (150)       Initialize",
		"  r4        50  govrrpd stopped               govrrpd stopped",
		"  host    ping  10.77.0.254 ✓ via r2          fd77::254 ✗ 215 ms",
	}
	plain := RenderTable(boxes, pings, false)
	if strings.Join(plain, "\n") != strings.Join(want, "\n") {
		t.Fatalf("table:\n%s\nwant:\n%s", strings.Join(plain, "\n"), strings.Join(want, "\n"))
	}
	// Colours never shift the columns.
	colored := RenderTable(boxes, pings, true)
	for i := range colored {
		if !strings.Contains(colored[i], "\x1b[") {
			t.Errorf("line %d has no colour: %q", i, colored[i])
		}
		if got := ansi.ReplaceAllString(colored[i], ""); got != plain[i] {
			t.Errorf("coloured line %d without colours = %q, want %q", i, got, plain[i])
		}
	}
	// No host line before the pinging starts.
	if n := len(RenderTable(boxes, []PingView{{VIP: "x"}, {VIP: "y"}}, false)); n != 5 {
		t.Errorf("table before pinging has %d lines, want 5", n)
	}
}

func TestScreenPlain(t *testing.T) {
	var b strings.Builder
	s := NewScreen(&b, false, true) // colours need a terminal
	s.Println("one")
	s.Live([]string{"table 1"})
	s.Live([]string{"table 2"})
	s.Println("two")
	s.Commit(true)
	s.Live([]string{"table 3"})
	s.Commit(false)
	if got, want := b.String(), "one\ntwo\ntable 2\n"; got != want {
		t.Fatalf("plain screen wrote %q, want %q", got, want)
	}
	if s.Style(bold, "x") != "x" {
		t.Error("colours off a terminal")
	}
}

func TestScreenTTY(t *testing.T) {
	var b strings.Builder
	s := NewScreen(&b, true, false)
	s.Live([]string{"a", "b"})
	s.Live([]string{"a", "b"}) // unchanged: not redrawn
	s.Println("log")
	s.Live([]string{"c"})
	s.Commit(true)
	s.Println("after")
	want := "\x1b[2Ka\n\x1b[2Kb\n" + // drawn
		"\x1b[2F\x1b[J" + "log\n" + "a\nb\n" + // line above, area redrawn
		"\x1b[2F\x1b[2Kc\n\x1b[J" + // shrunk in place
		"after\n" // committed: stays
	if got := b.String(); got != want {
		t.Fatalf("tty screen wrote %q,\nwant %q", got, want)
	}
}

func TestEventLine(t *testing.T) {
	ev := api.Event{Time: t0.Add(ms(341.4)), Router: Name6, Type: "transition", From: "Backup", To: "Master", Reason: "master-no-response"}
	if got, want := EventLine(t0, "r2", ev), "    +0.341 s  r2  IPv6  Backup → Master  (Master_Down_Timer ran out)"; got != want {
		t.Errorf("EventLine = %q, want %q", got, want)
	}
	ev.Router, ev.Reason = Name4, "something-new"
	if got := EventLine(t0, "r1", ev); !strings.Contains(got, "r1  IPv4") || !strings.HasSuffix(got, "(something-new)") {
		t.Errorf("EventLine = %q", got)
	}
}

// The generated configuration is what govrrpd accepts: two virtual routers,
// VRID 51 per family, accept mode on.
func TestRouterConfig(t *testing.T) {
	cfg, err := config.Parse("r1.yaml", []byte("control_socket: /tmp/x/r1.sock\n"+RouterConfig(200, 100*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ControlSocket != "/tmp/x/r1.sock" || len(cfg.Routers) != 2 {
		t.Fatalf("config: socket %q, %d routers", cfg.ControlSocket, len(cfg.Routers))
	}
	for _, r := range cfg.Routers {
		if r.VRID != VRID || r.Priority != 200 || !r.Accept || r.AdvertInterval != 100*time.Millisecond || r.Interface != "eth0" {
			t.Errorf("router %+v", r)
		}
	}
}

func TestCheckInterval(t *testing.T) {
	for iv, ok := range map[time.Duration]bool{
		10 * time.Millisecond: true, 100 * time.Millisecond: true, time.Second: true,
		5 * time.Millisecond: false, 15 * time.Millisecond: false, 2 * time.Second: false, 0: false,
	} {
		if err := CheckInterval(iv); (err == nil) != ok {
			t.Errorf("CheckInterval(%v) = %v", iv, err)
		}
	}
}

func TestNeedRoot(t *testing.T) {
	msg := NeedRoot([]string{"--interval", "50ms"})
	for _, want := range []string{"needs root", "network namespaces", "raw sockets", "sudo bin/govrrp-lab --interval 50ms", `sudo make demo ARGS="--interval 50ms"`, "govrrp simulate"} {
		if !strings.Contains(msg, want) {
			t.Errorf("NeedRoot lacks %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(NeedRoot(nil), "    sudo bin/govrrp-lab        (or: sudo make demo)") {
		t.Errorf("NeedRoot(nil):\n%s", NeedRoot(nil))
	}
}

func ms(m float64) time.Duration { return time.Duration(m * float64(time.Millisecond)) }

func TestFormatDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0 ms",
		3 * time.Millisecond:    "3 ms",
		41406250:                "41.4 ms", // Skew_Time at 150, 100 ms
		341406250:               "341.4 ms",
		ms(99.96):               "100 ms",
		ms(4.04):                "4 ms",
		1250 * time.Millisecond: "1.25 s",
		2 * time.Second:         "2 s",
		-ms(12.5):               "-12.5 ms",
	} {
		if got := FormatDur(d); got != want {
			t.Errorf("FormatDur(%v) = %q, want %q", d, got, want)
		}
	}
	if got := FormatOffset(ms(341.4)); got != "+0.341 s" {
		t.Errorf("FormatOffset = %q", got)
	}
	if got := FormatOffset(-ms(3)); got != "-0.003 s" {
		t.Errorf("FormatOffset = %q", got)
	}
}
