package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A partial rerun with -merge keeps every section it did not run and
// replaces the ones it did; failover and loaded share one list.
func TestMergeReport(t *testing.T) {
	old := Report{Mode: "full", Date: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC),
		Failover:    []FailoverResult{{Impl: "govrrp", Kind: "cable pull"}, {Impl: "govrrp", Kind: "cable pull", Load: "1004 VRs"}},
		Scale:       []ScaleResult{{Impl: "keepalived"}},
		BFDDetect:   []BFDDetectResult{{Detector: "old"}},
		BFDFailover: []FailoverResult{{Impl: "old"}},
		Micro:       []MicroResult{{Name: "BenchmarkParse"}},
	}
	rep := Report{Mode: "full",
		Failover:  []FailoverResult{{Impl: "govrrp", Kind: "SIGTERM", Load: "1004 VRs"}},
		BFDDetect: []BFDDetectResult{{Detector: "new"}},
	}
	mergeReport(&rep, &old, []string{"loaded", "bfd"}, []string{"govrrp", "keepalived"})
	if len(rep.Failover) != 2 || rep.Failover[0].Load != "" || rep.Failover[1].Kind != "SIGTERM" {
		t.Errorf("failover = %+v, want the old unloaded row and the new loaded one", rep.Failover)
	}
	if len(rep.Scale) != 1 || len(rep.BFDFailover) != 1 || rep.BFDFailover[0].Impl != "old" {
		t.Errorf("kept sections lost: scale %+v, bfd failover %+v", rep.Scale, rep.BFDFailover)
	}
	if len(rep.BFDDetect) != 1 || rep.BFDDetect[0].Detector != "new" {
		t.Errorf("bfd = %+v, want the new run's", rep.BFDDetect)
	}
	if slices.ContainsFunc(rep.Carried, func(s string) bool { return strings.HasPrefix(s, "bfd ") || strings.HasPrefix(s, "loaded ") }) ||
		!slices.Contains(rep.Carried, "scale (full run of 2026-12-01 22:00 UTC)") {
		t.Errorf("carried = %q", rep.Carried)
	}
	if len(rep.Micro) != 1 || !slices.Contains(rep.Carried, "micro-benchmarks (full run of 2026-12-01 22:00 UTC)") {
		t.Errorf("micro-benchmarks %+v not kept (carried %q)", rep.Micro, rep.Carried)
	}
	if md := markdown(&rep); !strings.Contains(md, "Sections kept from an earlier run") {
		t.Error("the report does not say which sections it kept")
	}
}

// A case rerun for some implementations keeps the others' rows, and a
// second merge keeps the first one's labels.
func TestMergeReportImplementations(t *testing.T) {
	first := Report{Mode: "full", Date: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC),
		Failover: []FailoverResult{{Impl: "govrrp", Kind: "cable pull"}, {Impl: "keepalived", Kind: "cable pull"}},
		Scale:    []ScaleResult{{Impl: "govrrp"}, {Impl: "keepalived"}},
	}
	second := Report{Mode: "full", Date: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC),
		Failover: []FailoverResult{{Impl: "govrrp", Kind: "SIGTERM"}},
	}
	mergeReport(&second, &first, []string{"failover"}, []string{"govrrp"})
	if len(second.Failover) != 2 || second.Failover[0].Impl != "keepalived" || second.Failover[1].Kind != "SIGTERM" {
		t.Errorf("failover = %+v, want keepalived's old row and govrrp's new one", second.Failover)
	}
	if !slices.Contains(second.Carried, "failover: keepalived (full run of 2026-12-01 22:00 UTC)") {
		t.Errorf("carried = %q, want keepalived's failover rows named", second.Carried)
	}
	third := Report{Mode: "full", Date: time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)}
	mergeReport(&third, &second, []string{"bfd"}, []string{"govrrp"})
	if !slices.Contains(third.Carried, "scale (full run of 2026-12-01 22:00 UTC)") ||
		!slices.Contains(third.Carried, "failover (full run of 2026-12-02 01:00 UTC)") ||
		!slices.Contains(third.Carried, "failover: keepalived (full run of 2026-12-01 22:00 UTC)") {
		t.Errorf("carried = %q, want each part with the run it comes from", third.Carried)
	}
}

// The false-Down case names each failure's diagnostic from the log, since
// a session's diag is reset when it is Up again.
func TestDownDiags(t *testing.T) {
	log := `time=1 level=WARN msg="bfd session down" session=s0 from=up to=down diag=control_detection_time_expired failure=true
time=2 level=INFO msg="bfd session up" session=s0 from=init to=up diag=none
time=3 level=WARN msg="bfd session down" session=s0 from=up to=down diag=neighbor_signaled_down failure=true
time=4 level=INFO msg="bfd session down" session=s0 from=up to=down diag=neighbor_signaled_down peer_admin_down=true
time=5 level=WARN msg="bfd session down" session=s0 from=up to=down diag=control_detection_time_expired failure=true
`
	if got, want := downDiags(log), "control_detection_time_expired ×2, neighbor_signaled_down ×1"; got != want {
		t.Errorf("downDiags = %q, want %q", got, want)
	}
	if got := downDiags(""); got != "no failure logged" {
		t.Errorf("downDiags(empty) = %q", got)
	}
}

// A scale rerun of some cases (-scale) keeps the other cases' rows.
func TestMergeReportScaleCases(t *testing.T) {
	old := Report{Mode: "full", Date: time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC),
		Scale: []ScaleResult{{Impl: "govrrp", Case: "50x10ms"}, {Impl: "keepalived", Case: "50x10ms"}, {Impl: "govrrp", Case: "4080x1s"}}}
	rep := Report{Mode: "full", Scale: []ScaleResult{{Impl: "govrrp", Case: "50x10ms", VRs: 50}, {Impl: "keepalived", Case: "50x10ms", VRs: 50}}}
	mergeReport(&rep, &old, []string{"scale"}, []string{"govrrp", "keepalived"})
	if len(rep.Scale) != 3 || rep.Scale[0].Case != "4080x1s" || rep.Scale[1].VRs != 50 || rep.Scale[2].VRs != 50 {
		t.Errorf("scale = %+v, want the old 4080x1s row and the new 50x10ms rows", rep.Scale)
	}
	if !slices.Contains(rep.Carried, "scale 4080x1s (full run of 2026-12-01 22:00 UTC)") {
		t.Errorf("carried = %q", rep.Carried)
	}
}
