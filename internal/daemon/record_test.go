package daemon

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
)

// BenchmarkRecordFailover is the record's cost when n Masters come up at
// once (a failover of 4000 routers): the pool's workers install their
// addresses side by side, each waiting for a write that has its address.
// It reports the writes and the time per address.
func BenchmarkRecordFailover(b *testing.B) {
	const n = 4000
	for b.Loop() {
		rec := newRecorder(filepath.Join(b.TempDir(), "netns-1.vips"), quiet)
		rec.start(nil)
		d := &Daemon{rec: rec}
		w := newWorkers(numWorkers, func(e effect) {
			for _, p := range e.prefixes {
				rec.include(hostAddrKey{e.dev, p.Addr()})
			}
		}, d.recordBatch)
		effs := make([]effect, n)
		for i := range effs {
			effs[i] = effect{kind: effAddAddresses, r: &vr{slot: i % numWorkers}, dev: fmt.Sprintf("eth%d", i%8),
				prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 78, byte(i >> 8), byte(i)}), 24)}}
		}
		w.submit(effs)
		w.close()
		b.ReportMetric(float64(rec.writes), "writes")
		rec.close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/address")
}
