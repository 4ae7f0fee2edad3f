package e2e

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
	"govrrp/vrrp"
)

// snmpLab is net-snmp's snmpd (AgentX master, SNMP on the namespace's
// loopback, notifications to snmptrapd there) in one router's namespace.
type snmpLab struct {
	t       *testing.T
	node    *lab.Node
	dir     string
	agentx  string // snmpd's AgentX socket
	trapLog string
	stopd   func() // kills snmpd
}

const (
	snmpAddr = "127.0.0.1:1161"
	trapAddr = "127.0.0.1:1162"
)

func newSNMPLab(t *testing.T, nd *lab.Node) *snmpLab {
	for _, tool := range []string{"snmpd", "snmptrapd", "snmpwalk", "snmpget"} {
		testenv.RequireTool(t, tool)
	}
	s := &snmpLab{t: t, node: nd, dir: t.TempDir()}
	s.agentx = filepath.Join(s.dir, "agentx.sock")
	s.trapLog = filepath.Join(s.dir, "traps.log")
	conf := fmt.Sprintf("dontLogTCPWrappersConnects yes\nmaster agentx\nagentXSocket %s\nagentXPerms 0600 0700\nagentXTimeout 2\nrocommunity public 127.0.0.1\ntrap2sink %s public\n", s.agentx, trapAddr)
	mustWrite(t, filepath.Join(s.dir, "snmpd.conf"), conf)
	mustWrite(t, filepath.Join(s.dir, "snmptrapd.conf"), "disableAuthorization yes\n")
	// snmptrapd prints each notification's varbinds numerically, one
	// notification per line.
	s.daemon("snmptrapd", "-f", "-C", "-c", filepath.Join(s.dir, "snmptrapd.conf"), "-n", "-On", "-Lf", s.trapLog,
		"-F", "TRAP %v\n", "udp:"+trapAddr)
	return s
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// daemon starts a net-snmp daemon in the namespace, killed by the function
// it returns or at cleanup. Persistent state stays in the test's directory,
// never /var/lib/snmp (and apart from the configuration: snmpd writes a
// snmpd.conf there).
func (s *snmpLab) daemon(name string, args ...string) (kill func()) {
	p := lab.StartProcEnv(s.t, s.node, name, filepath.Join(s.dir, name+".log"),
		[]string{"SNMP_PERSISTENT_DIR=" + filepath.Join(s.dir, "state"), "MIBS="}, append([]string{name}, args...)...)
	s.t.Cleanup(func() {
		if s.t.Failed() {
			s.t.Logf("--- %s output ---\n%s", name, p.Logs())
		}
	})
	return func() { p.Kill(s.t) }
}

// startSNMPD (re)starts snmpd and waits until it answers.
func (s *snmpLab) startSNMPD() {
	s.t.Helper()
	s.stopd = s.daemon("snmpd", "-f", "-C", "-c", filepath.Join(s.dir, "snmpd.conf"), "-Lo", "-p", filepath.Join(s.dir, "snmpd.pid"), "udp:"+snmpAddr)
	waitFor(s.t, 10*time.Second, "snmpd to answer", func() (bool, string) {
		out, err := s.run("snmpget", "1.3.6.1.2.1.1.3.0")
		return err == nil, out
	})
}

// run runs snmpget/snmpwalk in the namespace: numeric OIDs, enumerations,
// timeticks and hex strings, one "OID = TYPE: value" line per object.
func (s *snmpLab) run(tool string, oids ...string) (string, error) {
	args := append([]string{"netns", "exec", s.node.Name, tool, "-v2c", "-c", "public", "-t", "1", "-r", "1", "-On", "-Oe", "-Ot", "-Ox", snmpAddr}, oids...)
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), "MIBS=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// walk returns every object under root: OID -> "TYPE: value".
func (s *snmpLab) walk(root string) map[string]string {
	s.t.Helper()
	out, err := s.run("snmpwalk", root)
	if err != nil {
		s.t.Fatalf("snmpwalk %s: %v\n%s", root, err, out)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		oid, val, ok := strings.Cut(sc.Text(), " = ")
		if !ok {
			continue
		}
		m[strings.TrimPrefix(oid, ".")] = strings.TrimSpace(val)
	}
	return m
}

func (s *snmpLab) get(oid string) string {
	s.t.Helper()
	out, _ := s.run("snmpget", oid)
	_, val, _ := strings.Cut(strings.TrimSpace(out), " = ")
	return val
}

func (s *snmpLab) traps() string {
	b, _ := os.ReadFile(s.trapLog)
	return string(b)
}

func hexOctets(b ...byte) string {
	var parts []string
	for _, x := range b {
		parts = append(parts, fmt.Sprintf("%02X", x))
	}
	return "Hex-STRING: " + strings.Join(parts, " ")
}

func ipHex(s string) string {
	var b []byte
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p)
		b = append(b, byte(n))
	}
	return hexOctets(b...)
}

func truthValue(b bool) string {
	if b {
		return "INTEGER: 1"
	}
	return "INTEGER: 2"
}

func stateValue(s string) string {
	return map[string]string{"Backup": "INTEGER: 2", "Master": "INTEGER: 3"}[s]
}

// expected is what RFC 6527 and RFC 2787 say snmpwalk shows for the
// routers in d (their API details), except the counters, checked apart.
func expected(ifIndex int, ds ...api.RouterDetail) map[string]string {
	m := map[string]string{
		"1.3.6.1.2.1.68.1.1.0":    "INTEGER: 2", // vrrpNodeVersion
		"1.3.6.1.2.1.68.1.2.0":    "INTEGER: 1", // vrrpNotificationCntl enabled
		"1.3.6.1.2.1.207.1.2.4.0": "0",
	}
	for _, d := range ds {
		v3 := fmt.Sprintf(".%d.%d.1", ifIndex, d.VRID)
		col := func(c int) string { return fmt.Sprintf("1.3.6.1.2.1.207.1.1.1.1.%d%s", c, v3) }
		st := func(c int) string { return fmt.Sprintf("1.3.6.1.2.1.207.1.2.5.1.%d%s", c, v3) }
		m[col(3)] = ipHex(d.Master)
		m[col(4)] = ipHex(d.Primary)
		m[col(5)] = hexOctets(0, 0, 0x5e, 0, 1, d.VRID)
		m[col(6)] = stateValue(d.State)
		m[col(7)] = fmt.Sprintf("Gauge32: %d", d.Priority)
		m[col(8)] = fmt.Sprintf("INTEGER: %d", len(d.Addresses))
		m[col(9)] = fmt.Sprintf("INTEGER: %d", int(d.ConfiguredInterval/10))
		m[col(10)] = truthValue(d.Preempt)
		m[col(11)] = truthValue(d.Accept)
		m[col(13)] = "INTEGER: 1"
		for _, a := range d.Addresses {
			ip, _, _ := strings.Cut(a, "/")
			m[fmt.Sprintf("1.3.6.1.2.1.207.1.1.2.1.2%s.4.%s", v3, ip)] = "INTEGER: 1"
		}
		m[st(2)] = fmt.Sprintf("INTEGER: %d", map[string]int{"priority": 1, "preempted": 2, "masterNoResponse": 3}[d.NewMasterReason])
		m[st(6)] = "INTEGER: 0"
		m[st(12)] = "0"
		m[st(13)] = "Gauge32: 1000"
		if d.Version != 2 {
			continue
		}
		v2 := fmt.Sprintf(".%d.%d", ifIndex, d.VRID)
		op := func(c int) string { return fmt.Sprintf("1.3.6.1.2.1.68.1.3.1.%d%s", c, v2) }
		m[op(2)] = hexOctets(0, 0, 0x5e, 0, 1, d.VRID)
		m[op(3)] = stateValue(d.State)
		m[op(4)] = map[bool]string{false: "INTEGER: 1", true: "INTEGER: 2"}[d.Disabled] // admin up, down
		m[op(5)] = fmt.Sprintf("INTEGER: %d", d.Priority)
		m[op(6)] = fmt.Sprintf("INTEGER: %d", len(d.Addresses))
		m[op(7)] = "IpAddress: " + d.Master
		m[op(8)] = "IpAddress: " + d.Primary
		m[op(9)] = map[string]string{"none": "INTEGER: 1", "pass": "INTEGER: 2"}[d.Auth]
		m[op(10)] = `""`
		m[op(11)] = fmt.Sprintf("INTEGER: %d", int(d.ConfiguredInterval/1000))
		m[op(12)] = truthValue(d.Preempt)
		m[op(14)] = "INTEGER: 1"
		m[op(15)] = "INTEGER: 1"
		for _, a := range d.Addresses {
			ip, _, _ := strings.Cut(a, "/")
			m[fmt.Sprintf("1.3.6.1.2.1.68.1.4.1.2%s.%s", v2, ip)] = "INTEGER: 1"
		}
	}
	return m
}

// counters are the objects whose value moves: for each, the API counter it
// must equal at the time of the snapshot the walk saw.
func counters(ifIndex int, d api.RouterDetail) map[string]uint64 {
	v3 := fmt.Sprintf(".%d.%d.1", ifIndex, d.VRID)
	m := map[string]uint64{
		"1.3.6.1.2.1.207.1.2.5.1.1" + v3: d.Counters[api.CounterMasterTransitions],
		"1.3.6.1.2.1.207.1.2.5.1.3" + v3: d.Counters[api.CounterAdvertsReceived],
		"1.3.6.1.2.1.207.1.2.5.1.7" + v3: d.Counters[api.CounterPriorityZeroReceived],
		"1.3.6.1.2.1.207.1.2.5.1.8" + v3: d.Counters[api.CounterPriorityZeroSent],
	}
	for _, c := range []int{4, 5, 9, 10, 11} {
		m[fmt.Sprintf("1.3.6.1.2.1.207.1.2.5.1.%d%s", c, v3)] = 0
	}
	if d.Version == 2 {
		v2 := fmt.Sprintf(".%d.%d", ifIndex, d.VRID)
		m["1.3.6.1.2.1.68.2.4.1.1"+v2] = d.Counters[api.CounterMasterTransitions]
		m["1.3.6.1.2.1.68.2.4.1.2"+v2] = d.Counters[api.CounterAdvertsReceived]
		m["1.3.6.1.2.1.68.2.4.1.6"+v2] = d.Counters[api.CounterPriorityZeroReceived]
		m["1.3.6.1.2.1.68.2.4.1.7"+v2] = d.Counters[api.CounterPriorityZeroSent]
		for _, c := range []int{3, 4, 5, 8, 9, 10, 11, 12} {
			m[fmt.Sprintf("1.3.6.1.2.1.68.2.4.1.%d%s", c, v2)] = 0
		}
	}
	return m
}

func counterValue(s string) (uint64, bool) {
	_, v, ok := strings.Cut(s, ": ")
	if !ok || !(strings.HasPrefix(s, "Counter32") || strings.HasPrefix(s, "Counter64")) {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// checkWalk walks both MIBs on s and compares every object with the API
// details of p's routers, taken before and after the walk (the subagent
// serves a snapshot at most a second old, taken between the two).
func checkWalk(t *testing.T, s *snmpLab, p *proc, ifIndex int, names ...string) {
	t.Helper()
	var before, after []api.RouterDetail
	for _, n := range names {
		d, err := p.Detail(n)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, d)
	}
	time.Sleep(1100 * time.Millisecond) // the subagent's cache: its next snapshot is newer than before
	got := s.walk("1.3.6.1.2.1.68")
	for k, v := range s.walk("1.3.6.1.2.1.207") {
		got[k] = v
	}
	for _, n := range names {
		d, err := p.Detail(n)
		if err != nil {
			t.Fatal(err)
		}
		after = append(after, d)
	}
	want := expected(ifIndex, after...)
	lo, hi := map[string]uint64{}, map[string]uint64{}
	for i := range before {
		for k, v := range counters(ifIndex, before[i]) {
			lo[k] = v
		}
		for k, v := range counters(ifIndex, after[i]) {
			hi[k] = v
		}
	}
	// The router-wide error counters: nothing bad on this LAN.
	for _, k := range []string{"1.3.6.1.2.1.68.2.1.0", "1.3.6.1.2.1.68.2.2.0", "1.3.6.1.2.1.68.2.3.0",
		"1.3.6.1.2.1.207.1.2.1.0", "1.3.6.1.2.1.207.1.2.2.0", "1.3.6.1.2.1.207.1.2.3.0"} {
		lo[k], hi[k] = 0, 0
	}
	// vrrpv3OperationsUpTime is TimeTicks since the router left
	// Initialize (more than 0); vrrpOperVirtualRouterUpTime the sysUpTime
	// when it did (govrrpd's own, from its start: 0 or more).
	uptimes := map[string]int{}
	for _, d := range after {
		uptimes[fmt.Sprintf("1.3.6.1.2.1.207.1.1.1.1.12.%d.%d.1", ifIndex, d.VRID)] = 1
		if d.Version == 2 {
			uptimes[fmt.Sprintf("1.3.6.1.2.1.68.1.3.1.13.%d.%d", ifIndex, d.VRID)] = 0
		}
	}
	for k, v := range got {
		minUp, isUp := uptimes[k]
		switch {
		case want[k] != "":
			if v != want[k] {
				t.Errorf("%s = %s, want %s", k, v, want[k])
			}
			delete(want, k)
		case hi[k] > 0 || lo[k] == 0 && hi[k] == 0 && isCounter(v):
			n, ok := counterValue(v)
			if !ok || n < lo[k] || n > hi[k] {
				t.Errorf("%s = %s, want a counter in %d..%d (govrrp status)", k, v, lo[k], hi[k])
			}
			delete(lo, k)
		case isUp:
			// TimeTicks (snmpwalk -Ot prints the number alone): since it
			// left Initialize, a few seconds ago.
			if n, err := strconv.Atoi(v); err != nil || n < minUp || n > 60*100 {
				t.Errorf("%s = %s, want the hundredths of a second since the router left Initialize", k, v)
			}
			delete(uptimes, k)
		default:
			t.Errorf("%s = %s served, not in the MIB mapping", k, v)
		}
	}
	for k, v := range want {
		t.Errorf("%s missing from the walk, want %s", k, v)
	}
	for k := range lo {
		t.Errorf("counter %s missing from the walk", k)
	}
	for k := range uptimes {
		t.Errorf("uptime %s missing from the walk", k)
	}
	if t.Failed() {
		t.Logf("walked %d objects", len(got))
	}
}

func isCounter(v string) bool { _, ok := counterValue(v); return ok }

// govrrpd serves VRRPv3-MIB (RFC 6527) and VRRP-MIB (RFC 2787) through a
// real snmpd as an AgentX subagent: it connects when snmpd comes up after
// it, every object a walk returns matches the API, the rows follow a
// failover, vrrpv3NewMaster and vrrpTrapNewMaster reach snmptrapd, bad
// adverts make vrrpv3ProtoError and vrrpTrapAuthFailure, and the subagent
// registers again after snmpd restarts.
func TestSNMPAgentX(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	s := newSNMPLab(t, r2)
	routers := func(prio int) string {
		return routerYAML("gw", "51", prio, "100ms", "    accept: true\n", "10.77.0.254/24") +
			routerYAML("old", "52", prio, "1s", "    version: 2\n    auth: {type: pass, password: secret}\n", "10.77.0.253/24")
	}
	p1 := start(t, r1, routers(150))
	p2 := startTop(t, r2, "snmp_agentx: "+s.agentx+"\n", routers(100))
	// snmpd after govrrpd: the subagent was retrying.
	s.startSNMPD()
	for _, n := range []string{"gw", "old"} {
		p1.waitState(n, "Master", 5*time.Second)
		p2.waitState(n, "Backup", 5*time.Second)
	}
	ifi, err := r2.Interface("eth0")
	if err != nil {
		t.Fatal(err)
	}
	state := func(vrid int) string { return fmt.Sprintf("1.3.6.1.2.1.207.1.1.1.1.6.%d.%d.1", ifi.Index, vrid) }
	waitFor(t, 10*time.Second, "the subagent to register with snmpd", func() (bool, string) {
		v := s.get(state(51))
		return v == "INTEGER: 2", v
	})
	checkWalk(t, s, p2, ifi.Index, "gw", "old")

	// Failover: the master stops (sending priority 0); the backup's rows
	// say Master with its own address, and the notifications arrive.
	p1.stop()
	for _, n := range []string{"gw", "old"} {
		p2.waitState(n, "Master", 5*time.Second)
	}
	waitFor(t, 5*time.Second, "the MIB rows to say master", func() (bool, string) {
		a, b := s.get(state(51)), s.get(state(52))
		return a == "INTEGER: 3" && b == "INTEGER: 3", a + " " + b
	})
	checkWalk(t, s, p2, ifi.Index, "gw", "old")
	waitFor(t, 5*time.Second, "vrrpv3NewMaster (both routers) and vrrpTrapNewMaster at snmptrapd", func() (bool, string) {
		log := s.traps()
		v3gw := fmt.Sprintf(".1.3.6.1.2.1.207.1.1.1.1.3.%d.51.1", ifi.Index)
		v3old := fmt.Sprintf(".1.3.6.1.2.1.207.1.1.1.1.3.%d.52.1", ifi.Index)
		v2old := fmt.Sprintf(".1.3.6.1.2.1.68.1.3.1.7.%d.52", ifi.Index)
		ok := strings.Contains(log, ".1.3.6.1.2.1.207.0.1") && strings.Contains(log, v3gw) && strings.Contains(log, v3old) &&
			strings.Contains(log, ".1.3.6.1.2.1.68.0.1") && strings.Contains(log, v2old) && strings.Contains(log, "10.77.0.2")
		return ok, log
	})

	// Bad adverts: one with TTL 254 for the VRRPv3 router is a protocol
	// error (vrrpv3ProtoError, ipTtlError(1)); a VRRPv2 one with the wrong
	// password an authentication failure (vrrpTrapAuthFailure,
	// authFailure(3), vrrpTrapPacketSrc the host) [5798-7.1-a][3768-7.1-c].
	inject(t, l.host, 254, 200)
	bad := vrrp.Message{Version: 2, VRID: 52, Priority: 200, Family: vrrp.IPv4, Interval: time.Second,
		AuthType: vrrp.AuthPassword, Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.253")}}
	copy(bad.AuthData[:], "wrong")
	injectMessage(t, l.host, 255, bad)
	protoErr := fmt.Sprintf("1.3.6.1.2.1.207.1.2.5.1.6.%d.51.1", ifi.Index)
	waitFor(t, 5*time.Second, "vrrpv3ProtoError and vrrpTrapAuthFailure at snmptrapd, the reason in the MIB", func() (bool, string) {
		log, reason := s.traps(), s.get(protoErr)
		ok := strings.Contains(log, ".1.3.6.1.2.1.207.0.2") && strings.Contains(log, "."+protoErr+" = INTEGER: 1") &&
			strings.Contains(log, ".1.3.6.1.2.1.68.0.2") && strings.Contains(log, fmt.Sprintf(".1.3.6.1.2.1.68.1.6.%d.52 = INTEGER: 3", ifi.Index)) &&
			strings.Contains(log, fmt.Sprintf(".1.3.6.1.2.1.68.1.5.%d.52 = IpAddress: %s", ifi.Index, l.host.V4.Addr())) &&
			reason == "INTEGER: 1"
		return ok, reason + "\n" + log
	})
	ttlErrors := fmt.Sprintf("1.3.6.1.2.1.207.1.2.5.1.5.%d.51.1", ifi.Index)
	authFailures := fmt.Sprintf("1.3.6.1.2.1.68.2.4.1.4.%d.52", ifi.Index)
	waitFor(t, 3*time.Second, "vrrpv3StatisticsIpTtlErrors and vrrpStatsAuthFailures to count the 5 adverts each", func() (bool, string) {
		a, b := s.get(ttlErrors), s.get(authFailures)
		return a == "Counter64: 5" && b == "Counter32: 5", a + ", " + b
	})

	// snmpd restarts: the subagent registers again.
	s.stopd()
	s.startSNMPD()
	waitFor(t, 10*time.Second, "the subagent to register again after snmpd restarted", func() (bool, string) {
		v := s.get(state(51))
		return v == "INTEGER: 3", v
	})
}
