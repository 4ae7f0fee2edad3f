package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/version"
)

// NewBuildInfo returns the collector of govrrp_build_info: always 1,
// labelled with the version, the VCS revision the binary was built from
// ("unknown" outside a checkout) and the Go version.
func NewBuildInfo() prometheus.Collector {
	rev := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "govrrp_build_info",
		Help:        "1, labelled with the version, the VCS revision and the Go version of the running govrrpd.",
		ConstLabels: prometheus.Labels{"version": version.Version, "revision": rev, "goversion": runtime.Version()},
	})
	g.Set(1)
	return g
}
