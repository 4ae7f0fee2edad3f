package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every range docs/CONFIG.md states, tried at each bound and one step
// outside it: the value inside is parsed as written, the one outside is
// refused where it is written. An off-by-one in a bound (advert_interval 0s
// accepted, 40.95s refused, VRID 256 let through) fails here.
func TestParseBounds(t *testing.T) {
	const v2 = "    version: 2\n"
	r0 := func(c *Config) *Router { return &c.Routers[0] }
	type tc struct {
		name string
		yaml string // appended to base (keys of its router, or top-level ones); "vrid N" replaces its vrid
		get  func(*Config) any
		want any // nil: refused on the last line of yaml
	}
	ok := func(name, yaml string, get func(*Config) any, want any) tc { return tc{name, yaml, get, want} }
	bad := func(name, yaml string) tc { return tc{name: name, yaml: yaml} }
	vrid := func(c *Config) any { return r0(c).VRID }
	prio := func(c *Config) any { return r0(c).Priority }
	ver := func(c *Config) any { return r0(c).Version }
	iv := func(c *Config) any { return r0(c).AdvertInterval }
	pd := func(c *Config) any { return r0(c).PreemptDelay }
	ann := func(c *Config) any { return r0(c).Announce }
	weight := func(c *Config) any { return r0(c).Track.Interfaces[0].Weight }
	fileWeight := func(c *Config) any { return r0(c).Track.Files[0].Weight }
	script := func(c *Config) any { s := c.Scripts["chk"]; return [4]any{s.Interval, s.Timeout, s.Rise, s.Fall} }
	rule := func(c *Config) any { return [2]uint32{r0(c).Rules[0].Table, r0(c).Rules[0].Priority} }
	route := func(c *Config) any { return [2]uint32{r0(c).Routes[0].Table, r0(c).Routes[0].Metric} }
	vridLine := func(v string) string { return "vrid " + v }
	for _, c := range []tc{
		// [5798-5.2.3-a] VRID 1..255.
		bad("5798-5.2.3-a vrid 0", vridLine("0")),
		ok("5798-5.2.3-a vrid 1", vridLine("1"), vrid, uint8(1)),
		ok("5798-5.2.3-a vrid 255", vridLine("255"), vrid, uint8(255)),
		bad("5798-5.2.3-a vrid 256", vridLine("256")),
		// version 2 or 3.
		bad("version 1", "    version: 1\n"),
		ok("version 2", v2, ver, uint8(2)),
		ok("version 3", "    version: 3\n", ver, uint8(3)),
		bad("version 4", "    version: 4\n"),
		// [5798-5.2.4-a] [5798-5.2.4-b] priorities 1..254, 255 for the owner; 0 only on shutdown.
		bad("5798-5.2.4-b priority 0", "    priority: 0\n"),
		ok("5798-5.2.4-b priority 1", "    priority: 1\n", prio, uint8(1)),
		ok("5798-5.2.4-b priority 254", "    priority: 254\n", prio, uint8(254)),
		ok("5798-5.2.4-a priority 255", "    priority: 255\n", prio, uint8(255)),
		bad("5798-5.2.4-a priority 256", "    priority: 256\n"),
		// [5798-5.2.7-a] v3: 12 bits of centiseconds, 1..4095 = 10ms..40.95s.
		bad("5798-5.2.7-a v3 interval 0s", "    advert_interval: 0s\n"),
		bad("5798-5.2.7-a v3 interval 9ms", "    advert_interval: 9ms\n"),
		ok("5798-5.2.7-a v3 interval 10ms", "    advert_interval: 10ms\n", iv, 10*time.Millisecond),
		bad("5798-5.2.7-a v3 interval 15ms", "    advert_interval: 15ms\n"),
		ok("5798-5.2.7-a v3 interval 40.95s", "    advert_interval: 40.95s\n", iv, 40950*time.Millisecond),
		bad("5798-5.2.7-a v3 interval 40.96s", "    advert_interval: 40.96s\n"),
		bad("5798-5.2.7-a v3 interval 41s", "    advert_interval: 41s\n"),
		// [3768-5.3.7-a] v2: 8 bits of seconds, 1..255.
		bad("3768-5.3.7-a v2 interval 0s", v2+"    advert_interval: 0s\n"),
		bad("3768-5.3.7-a v2 interval 990ms", v2+"    advert_interval: 990ms\n"),
		ok("3768-5.3.7-a v2 interval 1s", v2+"    advert_interval: 1s\n", iv, time.Second),
		ok("3768-5.3.7-a v2 interval 255s", v2+"    advert_interval: 255s\n", iv, 255*time.Second),
		bad("3768-5.3.7-a v2 interval 256s", v2+"    advert_interval: 256s\n"),
		ok("preempt_delay 0s", "    preempt_delay: 0s\n", pd, time.Duration(0)),
		ok("preempt_delay 1h", "    preempt_delay: 1h\n", pd, time.Hour),
		bad("preempt_delay 1h0m1s", "    preempt_delay: 1h0m1s\n"),
		bad("preempt_delay -1s", "    preempt_delay: -1s\n"),
		// auth.password 1..8 bytes (empty: "needs a password").
		ok("password 1 byte", v2+"    auth: {type: pass, password: x}\n", func(c *Config) any { return r0(c).AuthPassword }, "x"),
		ok("password 8 bytes", v2+"    auth: {type: pass, password: '12345678'}\n", func(c *Config) any { return r0(c).AuthPassword }, "12345678"),
		bad("password 9 bytes", v2+"    auth: {type: pass, password: '123456789'}\n"),
		bad("password empty", v2+"    auth: {type: pass, password: ''}\n"),
		// track weights -254..254.
		bad("interface weight -255", "    track: {interfaces: [{name: eth1, weight: -255}]}\n"),
		ok("interface weight -254", "    track: {interfaces: [{name: eth1, weight: -254}]}\n", weight, -254),
		ok("interface weight 254", "    track: {interfaces: [{name: eth1, weight: 254}]}\n", weight, 254),
		bad("interface weight 255", "    track: {interfaces: [{name: eth1, weight: 255}]}\n"),
		bad("file weight -255", "    track: {files: [{path: /run/d, weight: -255}]}\n"),
		ok("file weight -254", "    track: {files: [{path: /run/d, weight: -254}]}\n", fileWeight, -254),
		ok("file weight 254", "    track: {files: [{path: /run/d, weight: 254}]}\n", fileWeight, 254),
		bad("file weight 255", "    track: {files: [{path: /run/d, weight: 255}]}\n"),
		// announce: repeat 1..100, delay 0s..1h, refresh 0s or 1s..24h.
		bad("announce repeat 0", "    announce: {repeat: 0}\n"),
		ok("announce repeat 1, delay 0s, refresh 0s", "    announce: {repeat: 1, delay: 0s, refresh: 0s}\n", ann, Announce{Repeat: 1}),
		ok("announce repeat 100, delay 1h, refresh 24h", "    announce: {repeat: 100, delay: 1h, refresh: 24h}\n", ann, Announce{Repeat: 100, Delay: time.Hour, Refresh: 24 * time.Hour}),
		ok("announce refresh 1s", "    announce: {refresh: 1s}\n", func(c *Config) any { return r0(c).Announce.Refresh }, time.Second),
		bad("announce repeat 101", "    announce: {repeat: 101}\n"),
		bad("announce delay 1h0m1s", "    announce: {delay: 1h0m1s}\n"),
		bad("announce refresh 999ms", "    announce: {refresh: 999ms}\n"),
		bad("announce refresh 24h0m1s", "    announce: {refresh: 24h0m1s}\n"),
		// routes: table 1..2^32-1, metric 0..2^32-1; rules: table 1..2^32-1, priority 1..32765.
		bad("route table 0", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, table: 0}]\n"),
		ok("route table 1, metric 0", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, table: 1, metric: 0}]\n", route, [2]uint32{1, 0}),
		ok("route table and metric 4294967295", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, table: 4294967295, metric: 4294967295}]\n", route, [2]uint32{4294967295, 4294967295}),
		bad("route table 4294967296", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, table: 4294967296}]\n"),
		bad("route metric 4294967296", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, metric: 4294967296}]\n"),
		bad("route metric -1", "    routes: [{to: 10.78.0.0/16, via: 10.77.0.1, metric: -1}]\n"),
		bad("rule table 0", "    rules: [{from: 10.78.0.0/16, table: 0}]\n"),
		bad("rule priority 0", "    rules: [{from: 10.78.0.0/16, table: 1, priority: 0}]\n"),
		ok("rule table 1, priority 1", "    rules: [{from: 10.78.0.0/16, table: 1, priority: 1}]\n", rule, [2]uint32{1, 1}),
		ok("rule table 4294967295, priority 32765", "    rules: [{from: 10.78.0.0/16, table: 4294967295, priority: 32765}]\n", rule, [2]uint32{4294967295, 32765}),
		bad("rule table 4294967296", "    rules: [{from: 10.78.0.0/16, table: 4294967296}]\n"),
		bad("rule priority 32766", "    rules: [{from: 10.78.0.0/16, table: 1, priority: 32766}]\n"),
		// Top level: notify_timeout 1s..10m; scripts: interval 100ms..1h,
		// timeout 10ms..interval, rise and fall 1..100.
		bad("notify_timeout 999ms", "notify_timeout: 999ms\n"),
		ok("notify_timeout 1s", "notify_timeout: 1s\n", func(c *Config) any { return c.NotifyTimeout }, time.Second),
		ok("notify_timeout 10m", "notify_timeout: 10m\n", func(c *Config) any { return c.NotifyTimeout }, 10*time.Minute),
		bad("notify_timeout 10m0.001s", "notify_timeout: 10m0.001s\n"),
		bad("script interval 99ms", "scripts:\n  chk: {exec: [/bin/true], interval: 99ms, timeout: 10ms}\n"),
		ok("script interval 100ms, timeout 10ms, rise and fall 1", "scripts:\n  chk: {exec: [/bin/true], interval: 100ms, timeout: 10ms, rise: 1, fall: 1}\n", script, [4]any{100 * time.Millisecond, 10 * time.Millisecond, 1, 1}),
		ok("script interval and timeout 1h, rise and fall 100", "scripts:\n  chk: {exec: [/bin/true], interval: 1h, timeout: 1h, rise: 100, fall: 100}\n", script, [4]any{time.Hour, time.Hour, 100, 100}),
		bad("script interval 1h0m1s", "scripts:\n  chk: {exec: [/bin/true], interval: 1h0m1s}\n"),
		bad("script timeout 9ms", "scripts:\n  chk: {exec: [/bin/true], timeout: 9ms}\n"),
		bad("script timeout above the interval", "scripts:\n  chk: {exec: [/bin/true], interval: 1s, timeout: 1001ms}\n"),
		bad("script rise 0", "scripts:\n  chk: {exec: [/bin/true], rise: 0}\n"),
		bad("script rise 101", "scripts:\n  chk: {exec: [/bin/true], rise: 101}\n"),
		bad("script fall 0", "scripts:\n  chk: {exec: [/bin/true], fall: 0}\n"),
		bad("script fall 101", "scripts:\n  chk: {exec: [/bin/true], fall: 101}\n"),
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := base + c.yaml
			if v, found := strings.CutPrefix(c.yaml, "vrid "); found {
				doc = strings.Replace(base, "vrid: 51", "vrid: "+v, 1)
			}
			cfg, err := Parse("c.yaml", []byte(doc))
			if c.want != nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := c.get(cfg); fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("parsed %v, want %v", got, c.want)
				}
				return
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("accepted, want refused (err %v)", err)
			}
			// Refused where the value is written: the key's line.
			line := strings.Count(strings.TrimSuffix(doc, "\n"), "\n") + 1
			if c.yaml == "" || strings.HasPrefix(c.yaml, "vrid ") {
				line = 3
			}
			if got := errs.List[0].Pos.Line; got != line {
				t.Fatalf("refused at line %d, want %d: %v", got, line, err)
			}
		})
	}
}
