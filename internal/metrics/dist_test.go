package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.yaml.in/yaml/v3"

	"govrrp/internal/api"
	"govrrp/internal/testenv"
)

// The files shipped under dist/ for Prometheus and Grafana.
const (
	alertRules = "../../dist/prometheus/govrrp-alerts.yml"
	alertTests = "../../dist/prometheus/govrrp-alerts.test.yml"
	dashboard  = "../../dist/grafana/govrrp-dashboard.json"

	monitoringDoc = "../../docs/MONITORING.md"
)

// The alert rules are valid and do what their unit tests say on crafted
// series (no master, two masters, flapping, discards, Fault, ...).
func TestAlertRules(t *testing.T) {
	promtool := testenv.RequireTool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", filepath.Base(alertRules)}, {"test", "rules", filepath.Base(alertTests)}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = filepath.Dir(alertRules)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// dashboardQueries returns every PromQL expression of the dashboard: its
// panels' targets and its template variables' queries. It also checks
// that each panel and target reads the datasource variable, so the
// dashboard imports into any Grafana whatever its Prometheus is called.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	type ds struct{ Type, UID string }
	var d struct {
		Templating struct {
			List []struct {
				Name, Type string
				Query      json.RawMessage
				Datasource *ds
			}
		}
		Panels []struct {
			Title      string
			Datasource *ds
			Targets    []struct {
				Expr       string
				Datasource *ds
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	viaVar := func(what string, s *ds) {
		if s == nil || s.Type != "prometheus" || s.UID != "${datasource}" {
			t.Errorf("%s: datasource %+v, want the prometheus ${datasource} variable", what, s)
		}
	}
	var exprs []string
	hasDS := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDS = v.Name == "datasource" && string(v.Query) == `"prometheus"`
		case "query":
			viaVar("variable "+v.Name, v.Datasource)
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil || q.Query == "" {
				t.Errorf("variable %s: query %s (%v)", v.Name, v.Query, err)
			}
			exprs = append(exprs, q.Query)
		}
	}
	if !hasDS {
		t.Error("no datasource variable of type prometheus")
	}
	if len(d.Panels) == 0 {
		t.Error("no panels")
	}
	for _, p := range d.Panels {
		viaVar("panel "+p.Title, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("panel %s: no targets", p.Title)
		}
		for _, tg := range p.Targets {
			viaVar("panel "+p.Title, tg.Datasource)
			exprs = append(exprs, tg.Expr)
		}
	}
	return exprs
}

// docQueries returns the PromQL of the ```promql blocks of
// docs/MONITORING.md and docs/MIGRATING.md (keepalived-exporter's queries):
// a comment line ends a query.
func docQueries(t *testing.T) []string {
	t.Helper()
	var b []byte
	for _, f := range []string{monitoringDoc, "../../docs/MIGRATING.md"} {
		d, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, d...)
	}
	var qs []string
	for _, block := range regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		var q []string
		for l := range strings.Lines(block[1] + "#\n") {
			if strings.HasPrefix(l, "#") {
				if len(q) > 0 {
					qs = append(qs, strings.Join(q, " "))
				}
				q = nil
				continue
			}
			q = append(q, strings.TrimSpace(l))
		}
	}
	if len(qs) == 0 {
		t.Fatalf("no promql blocks in %s", monitoringDoc)
	}
	return qs
}

// Grafana's variables, replaced by what Grafana would put there.
var grafanaVars = strings.NewReplacer("$__rate_interval", "1m", "$instance", ".*", "$router", ".*")

// The dashboard's queries, and those docs/MONITORING.md and MIGRATING.md suggest, are
// valid PromQL: promtool checks them as recording rules (label_values() is
// Grafana's, so its argument is checked).
func TestDashboardQueries(t *testing.T) {
	exprs := append(dashboardQueries(t), docQueries(t)...)
	promtool := testenv.RequireTool(t, "promtool")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	labelValues := regexp.MustCompile(`^label_values\((.*), *[a-z_]+\)$`)
	for _, e := range exprs {
		if m := labelValues.FindStringSubmatch(e); m != nil {
			e = m[1]
		}
		rules = append(rules, rule{Record: "dashboard:query", Expr: grafanaVars.Replace(e)})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []map[string]any{{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput(); err != nil {
		t.Fatalf("the dashboard's queries: %v\n%s", err, out)
	}
}

// Each of the dashboard's queries returns something on series shaped like
// what govrrpd exposes (the collectors' own exposition, with the scrape's
// instance and job), so no panel is empty because a `by`, a join or a
// label value does not match: promtool evaluates count(query) > 0 for
// each as an alert and expects it to fire.
func TestDashboardQueriesReturnData(t *testing.T) {
	exprs := dashboardQueries(t)
	promtool := testenv.RequireTool(t, "promtool")
	mfs, err := exposedRegistry(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	var in []series
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			ls := []string{`instance="gw1:9624"`, `job="govrrp"`}
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			v := "1+1x40" // a counter that rises
			if g := m.GetGauge(); g != nil {
				v = strconv.FormatFloat(g.GetValue(), 'g', -1, 64) + "x40"
			}
			in = append(in, series{mf.GetName() + "{" + strings.Join(ls, ",") + "}", v})
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.*), *[a-z_]+\)$`)
	type alertRule struct {
		Alert string `yaml:"alert"`
		Expr  string `yaml:"expr"`
	}
	type alertTest struct {
		EvalTime  string           `yaml:"eval_time"`
		Alertname string           `yaml:"alertname"`
		ExpAlerts []map[string]any `yaml:"exp_alerts"`
	}
	var rules []alertRule
	var tests []alertTest
	for i, e := range exprs {
		if m := labelValues.FindStringSubmatch(e); m != nil {
			e = m[1]
		}
		name := "Query" + strconv.Itoa(i)
		t.Logf("%s: %s", name, e)
		rules = append(rules, alertRule{name, "count(" + grafanaVars.Replace(e) + ") > 0"})
		tests = append(tests, alertTest{"5m", name, []map[string]any{{"exp_labels": map[string]string{}}}})
	}
	dir := t.TempDir()
	write := func(name string, v any) {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("rules.yml", map[string]any{"groups": []map[string]any{{"name": "dashboard", "rules": rules}}})
	write("test.yml", map[string]any{"rule_files": []string{"rules.yml"}, "evaluation_interval": "15s",
		"tests": []map[string]any{{"interval": "15s", "input_series": in, "alert_rule_test": tests}}})
	cmd := exec.Command(promtool, "test", "rules", "test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a dashboard query returns nothing: %v\n%s", err, out)
	}
}

// exposed returns the label names of every metric exposedRegistry
// exposes, by metric name.
func exposed(t *testing.T) map[string][]string {
	t.Helper()
	mfs, err := exposedRegistry(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	for _, mf := range mfs {
		var ls []string
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				ls = append(ls, l.GetName())
			}
		}
		slices.Sort(ls)
		names[mf.GetName()] = slices.Compact(ls)
	}
	return names
}

// exposedRegistry registers the collectors over a daemon with every kind
// of router (Backup, Master, Fault, v2_compat) and interface.
func exposedRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	master, fault := everyValue(), everyValue()
	master.Name, master.State = "m", "Master"
	fault.Name, fault.State, fault.FaultReason = "f", "Fault", "link-down"
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(func() []api.RouterDetail { return []api.RouterDetail{everyValue(), master, fault} }),
		NewInterfaces(func() []api.InterfaceStatus {
			st := api.InterfaceStatus{Interface: "eth0", Family: "ipv4", LastUnknownAt: time.Unix(1, 0),
				Discards: map[string]uint64{"vrid": 1}, Counters: map[string]uint64{}}
			for _, k := range api.InterfaceCounters {
				st.Counters[k] = 1
			}
			return []api.InterfaceStatus{st}
		}),
		NewDaemon(func() api.DaemonStatus { return api.DaemonStatus{} }), NewBFD(everyBFDValue), NewBuildInfo())
	return reg
}

// The metrics the alert rules, their tests and the dashboard name are ones
// the collectors export, with the labels they select on: a rule on a
// misspelled or renamed metric would never fire, and a panel stay empty.
func TestDistNamesExported(t *testing.T) {
	names := exposed(t)
	var sources []struct{ where, expr string }
	add := func(where, expr string) { sources = append(sources, struct{ where, expr string }{where, expr}) }
	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	readYAML(t, alertRules, &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			add(alertRules+" "+r.Alert, r.Expr)
		}
	}
	var tests struct {
		Tests []struct {
			InputSeries []struct{ Series string } `yaml:"input_series"`
		}
	}
	readYAML(t, alertTests, &tests)
	for _, tc := range tests.Tests {
		for _, s := range tc.InputSeries {
			add(alertTests, s.Series)
		}
	}
	for _, e := range dashboardQueries(t) {
		add(dashboard, e)
	}
	for _, e := range docQueries(t) {
		add(monitoringDoc, e)
	}
	// A metric name and, when it has them, its label matchers.
	selector := regexp.MustCompile(`\b(govrrp_[a-z0-9_]+)\b(\{[^}]*\})?`)
	matcher := regexp.MustCompile(`([a-z_]+) *(=~|!~|!=|=) *"`)
	// Prometheus' own labels, added at scrape.
	scrape := []string{"instance", "job"}
	used := 0
	for _, s := range sources {
		for _, m := range selector.FindAllStringSubmatch(s.expr, -1) {
			used++
			ls, ok := names[m[1]]
			if !ok {
				t.Errorf("%s: %s is not exported", s.where, m[1])
				continue
			}
			for _, l := range matcher.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(ls, l[1]) && !slices.Contains(scrape, l[1]) {
					t.Errorf("%s: %s has no label %s (it has %v)", s.where, m[1], l[1], ls)
				}
			}
		}
	}
	if used < 20 {
		t.Fatalf("only %d metric names found in dist/: the parsing is broken", used)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// docs/MONITORING.md lists every metric the collectors export and names
// none they do not; the other documents name no counter, time or info
// metric that does not exist (a renamed metric must be renamed there too).
func TestDocsNameExportedMetrics(t *testing.T) {
	names := exposed(t)
	metric := regexp.MustCompile(`\bgovrrp_[a-z0-9_]+`)
	doc, err := os.ReadFile(monitoringDoc)
	if err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]bool{}
	for _, n := range metric.FindAllString(string(doc), -1) {
		inDoc[n] = true
		if _, ok := names[n]; !ok {
			t.Errorf("docs/MONITORING.md names %s, which is not exported", n)
		}
	}
	for n := range names {
		if !inDoc[n] {
			t.Errorf("docs/MONITORING.md does not describe %s", n)
		}
	}
	others, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(others, "../../README.md") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range metric.FindAllString(string(b), -1) {
			_, ok := names[n]
			if !ok && (strings.HasSuffix(n, "_total") || strings.HasSuffix(n, "_seconds") || strings.HasSuffix(n, "_info")) {
				t.Errorf("%s names %s, which is not exported", f, n)
			}
		}
	}
}

// Every metric follows Prometheus' naming conventions as promlint checks
// them (counters end in _total, base units, no type or unit in the wrong
// place).
func TestLint(t *testing.T) {
	reg := exposedRegistry(t)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
