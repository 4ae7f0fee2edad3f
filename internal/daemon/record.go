package daemon

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync"

	"govrrp/internal/config"
	"govrrp/internal/linux"
)

// recorder keeps the record file (config.Record) listing the virtual
// addresses this daemon has on the interfaces: those it installed, and
// those an earlier instance killed with -9 left and that no router has
// flushed yet (carried). The host checks of the next start, and of govrrp
// validate meanwhile, exempt exactly these; a VIP that is not installed is
// not exempt, so one that has become a host address is refused.
//
// An address is in the file before it is on an interface (a kill -9 in
// between leaves a recorded address, never an unrecorded one), so an
// install waits for the write. Writes are coalesced: a worker records the
// addresses of the whole batch it took at once (recordBatch), one writer
// writes the whole set whenever it changed, and every install waiting
// meanwhile is covered by that one write: a failover of thousands of
// routers costs a few writes, not one each. A removal does not wait (a
// recorded address that is gone only exempts what is not there).
type recorder struct {
	file string // "" : track, write nothing
	log  *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	set     map[hostAddrKey]uint64 // → the generation that added it
	ours    map[hostAddrKey]bool   // installed (not just about to be)
	host    map[hostAddrKey]bool   // found the host's (linux.ErrNotOurs)
	carried map[netip.Addr]bool
	gen     uint64 // bumped by every change
	written uint64 // the generation in the file
	running bool
	closed  bool
	wfailed bool // the last write failed: said once
	writes  int  // files written (BenchmarkRecordFailover)
	done    chan struct{}
}

func newRecorder(file string, log *slog.Logger) *recorder {
	r := &recorder{file: file, log: log, set: map[hostAddrKey]uint64{}, ours: map[hostAddrKey]bool{}, host: map[hostAddrKey]bool{}, carried: map[netip.Addr]bool{}}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// start carries the addresses of the record an earlier instance left and
// starts the writer.
func (r *recorder) start(carried []netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running || r.closed {
		return
	}
	for _, a := range carried {
		r.carried[a] = true
	}
	r.running, r.done = true, make(chan struct{})
	go r.write()
}

// include records keys and waits until the file has them (one write for
// all of them).
func (r *recorder) include(keys ...hostAddrKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var need uint64
	for _, k := range keys {
		if r.host[k] {
			continue // the host's address: see failed
		}
		g, had := r.set[k]
		if !had {
			r.gen++
			g = r.gen
			r.set[k] = g
		}
		need = max(need, g)
	}
	if need > r.written {
		r.cond.Broadcast()
	}
	for r.running && !r.closed && r.written < need {
		r.cond.Wait()
	}
}

// installed notes that k is on its interface now (Add succeeded): a later
// failing add of it must not take it out of the record.
func (r *recorder) installed(k hostAddrKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ours[k] = true
	delete(r.host, k)
	if _, ok := r.set[k]; !ok { // the host's until just now: recorded late
		r.gen++
		r.set[k] = r.gen
		r.cond.Broadcast()
	}
}

// failed takes k out of the record after an add that failed, unless it was
// installed before. host: k is the host's address (linux.ErrNotOurs); it
// is not recorded again before the next adds of it, so that a kill -9
// then cannot leave it recorded for the next start to remove.
func (r *recorder) failed(k hostAddrKey, host bool) {
	r.mu.Lock()
	ours := r.ours[k]
	if host && !ours {
		r.host[k] = true
	}
	r.mu.Unlock()
	if !ours {
		r.exclude(k)
	}
}

// exclude forgets k; the file follows without waiting.
func (r *recorder) exclude(k hostAddrKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ours, k)
	if _, ok := r.set[k]; ok {
		delete(r.set, k)
		r.gen++
		r.cond.Broadcast()
	}
}

// flushed forgets the carried addresses among vips: a router removed them
// (linux.Addresses.Flush) before it ran.
func (r *recorder) flushed(vips []netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.carried)
	for _, a := range vips {
		delete(r.carried, a)
	}
	if len(r.carried) != n {
		r.gen++
		r.cond.Broadcast()
	}
}

// addrs is what the file says (or is about to): installed and carried.
// Called with r.mu held.
func (r *recorder) addrs() []netip.Addr {
	out := make([]netip.Addr, 0, len(r.set)+len(r.carried))
	for k := range r.set {
		out = append(out, k.addr)
	}
	for a := range r.carried {
		out = append(out, a)
	}
	return out
}

// recorded returns the addresses that are this daemon's: those being
// installed count already (an address dump may show them).
func (r *recorder) recorded() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addrs()
}

func (r *recorder) write() {
	defer close(r.done)
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for r.written == r.gen && !r.closed {
			r.cond.Wait()
		}
		if r.closed {
			return
		}
		g, addrs := r.gen, r.addrs()
		r.mu.Unlock()
		err := config.Record(r.file, addrs)
		r.mu.Lock()
		if err != nil && !r.wfailed {
			// Failing open: an install must not wait for a file.
			r.log.Warn("recording the virtual addresses; after a kill -9 the next start may take them for the host's", "file", r.file, "err", err)
		}
		r.wfailed = err != nil
		r.writes++
		r.written = g
		r.cond.Broadcast()
	}
}

// close stops the writer and removes the file: at stop, once every
// address is gone.
func (r *recorder) close() {
	r.mu.Lock()
	r.closed = true
	r.cond.Broadcast()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return // never started: the record, if any, is another instance's
	}
	<-done
	if err := config.Unrecord(r.file); err != nil {
		r.log.Warn("removing the record of the virtual addresses", "file", r.file, "err", err)
	}
}

// recordedAddrs is an address manager whose installs are recorded first.
type recordedAddrs struct {
	addresses
	rec *recorder
}

func (a recordedAddrs) Add(dev string, p netip.Prefix) error {
	return a.add(a.addresses.Add, dev, p)
}

func (a recordedAddrs) AddNoSource(dev string, p netip.Prefix) error {
	return a.add(a.addresses.AddNoSource, dev, p)
}

func (a recordedAddrs) AddWith(dev string, p netip.Prefix, label, scope string) error {
	return a.add(func(dev string, p netip.Prefix) error { return a.addresses.AddWith(dev, p, label, scope) }, dev, p)
}

func (a recordedAddrs) add(add func(string, netip.Prefix) error, dev string, p netip.Prefix) error {
	k := hostAddrKey{dev, p.Addr()}
	a.rec.include(k) // at once when the batch's recordBatch has
	if err := add(dev, p); err != nil {
		a.rec.failed(k, errors.Is(err, linux.ErrNotOurs))
		return err
	}
	a.rec.installed(k)
	return nil
}

func (a recordedAddrs) Remove(dev string, p netip.Prefix) error {
	err := a.addresses.Remove(dev, p)
	a.rec.exclude(hostAddrKey{dev, p.Addr()})
	return err
}

func (a recordedAddrs) Flush(dev string, vips []netip.Addr) ([]netip.Prefix, error) {
	removed, err := a.addresses.Flush(dev, vips)
	if err == nil {
		a.rec.flushed(vips)
	}
	return removed, err
}

// recordBatch records, in one write, the addresses a worker's batch is
// about to install.
func (d *Daemon) recordBatch(batch []effect) {
	var keys []hostAddrKey
	for i := range batch {
		if batch[i].kind == effAddAddresses {
			for _, p := range batch[i].prefixes {
				keys = append(keys, hostAddrKey{batch[i].dev, p.Addr()})
			}
		}
		if batch[i].kind == effAddExtras {
			for _, x := range batch[i].extras {
				keys = append(keys, hostAddrKey{x.dev, x.p.Addr()})
			}
		}
	}
	if len(keys) > 0 {
		d.rec.include(keys...)
	}
}
