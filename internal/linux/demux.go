package linux

import (
	"net/netip"
	"sync"

	"govrrp/vrrp"
)

// Deliver receives an advert that passed the receive checks for one virtual
// router, on the Conn's receive goroutine. m is only valid during the call
// (the Demux reuses it), so copy what must outlive it.
type Deliver func(m *vrrp.Message, res vrrp.Result, ip vrrp.IPHeader)

// Drop reports an advert that failed a check (err is a vrrp sentinel; use
// vrrp.Reason for the counter name). vrid is the advert's VRID byte, or 0
// when the packet was too short to carry one; cfg is the virtual router
// configured for it, nil when none. Called on the receive goroutine.
type Drop func(vrid uint8, cfg *vrrp.Config, err error)

// Demux splits the adverts of one Conn between the virtual routers of that
// interface and family by VRID (spec IMPL-16), validating each with the
// codec using the real TTL/hop limit the Conn read from the kernel. Plug it
// in with go conn.Serve(d.Handle).
type Demux struct {
	mu     sync.RWMutex
	routes [256]*route
	drop   Drop

	lookup vrrp.Lookup // bound once, so Handle does not allocate a closure
	msg    vrrp.Message

	dropMu sync.Mutex
	drops  map[string]uint64
}

type route struct {
	cfg     *vrrp.Config
	deliver Deliver
}

// NewDemux returns a Demux reporting failed checks to drop (may be nil).
func NewDemux(drop Drop) *Demux {
	d := &Demux{drop: drop, drops: make(map[string]uint64)}
	d.lookup = d.find
	d.msg.Addresses = make([]netip.Addr, 0, 16)
	return d
}

// Register routes adverts for vrid to deliver, validated against cfg; it
// replaces an earlier registration. cfg must not change while registered:
// register a new one instead.
func (d *Demux) Register(vrid uint8, cfg *vrrp.Config, deliver Deliver) {
	d.mu.Lock()
	d.routes[vrid] = &route{cfg: cfg, deliver: deliver}
	d.mu.Unlock()
}

// Unregister stops routing vrid; its adverts then count as VRID errors.
func (d *Demux) Unregister(vrid uint8) {
	d.mu.Lock()
	d.routes[vrid] = nil
	d.mu.Unlock()
}

func (d *Demux) route(vrid uint8) *route {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.routes[vrid]
}

func (d *Demux) find(vrid uint8) *vrrp.Config {
	if r := d.route(vrid); r != nil {
		return r.cfg
	}
	return nil
}

// Handle is the Conn Handler: validate, then deliver or drop and count.
// It must only be called from one goroutine (the Conn's receive loop).
func (d *Demux) Handle(p *Packet) {
	res, err := vrrp.Validate(&d.msg, p.Payload, p.IP, d.lookup)
	var vrid uint8
	if len(p.Payload) > 1 {
		vrid = p.Payload[1]
	}
	r := d.route(vrid)
	if err != nil {
		d.dropMu.Lock()
		d.drops[vrrp.Reason(err)]++
		d.dropMu.Unlock()
		if d.drop != nil {
			var cfg *vrrp.Config
			if r != nil {
				cfg = r.cfg
			}
			d.drop(vrid, cfg, err)
		}
		return
	}
	if r != nil {
		r.deliver(&d.msg, res, p.IP)
	}
}

// Drops returns the number of dropped adverts per vrrp.Reason token
// ("ttl", "checksum", "vrid", ...).
func (d *Demux) Drops() map[string]uint64 {
	d.dropMu.Lock()
	defer d.dropMu.Unlock()
	out := make(map[string]uint64, len(d.drops))
	for k, v := range d.drops {
		out[k] = v
	}
	return out
}
