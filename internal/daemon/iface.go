package daemon

import (
	"fmt"

	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// ifaceKey names one receive socket: an interface and a family. One raw
// socket per key is shared by every virtual router there, demultiplexed by
// VRID [IMPL-16].
type ifaceKey struct {
	name string
	fam  vrrp.Family
}

// iface is the shared receive socket of an interface and family. It also
// sends the multicast adverts of routers that use neither a VMAC nor unicast.
type iface struct {
	key     ifaceKey
	conn    *linux.Conn
	demux   *linux.Demux
	routers [256]*vr // by VRID; guarded by Daemon.mu
	refs    int
	served  chan struct{}
}

// openIface opens the socket of key and starts serving it. Called with d.mu held.
func (d *Daemon) openIface(key ifaceKey) (*iface, error) {
	if ifc := d.ifaces[key]; ifc != nil {
		return ifc, nil
	}
	conn, err := linux.Listen(linux.ConnConfig{Interface: key.name, Family: key.fam, Exclude: d.isVIP, Netlink: d.nl})
	if err != nil {
		return nil, fmt.Errorf("open VRRP socket on %s (%v): %w", key.name, key.fam, err) // wraps linux.ErrNoSource
	}
	ifc := &iface{key: key, conn: conn, served: make(chan struct{})}
	ifc.demux = linux.NewDemux(func(vrid uint8, _ *vrrp.Config, err error) { d.dropped(ifc, vrid, err) })
	d.ifaces[key] = ifc
	go func() {
		defer close(ifc.served)
		_ = conn.Serve(ifc.demux.Handle)
	}()
	return ifc, nil
}

// closeIface closes the socket once no router uses it. Called with d.mu held.
func (d *Daemon) releaseIface(ifc *iface) {
	ifc.refs--
	if ifc.refs > 0 {
		return
	}
	delete(d.ifaces, ifc.key)
	ifc.conn.Close()
	<-ifc.served
}

// dropped counts an advert that failed a receive check, on the receive
// goroutine: per router when its VRID is configured, per interface otherwise.
func (d *Daemon) dropped(ifc *iface, vrid uint8, err error) {
	d.mu.RLock()
	r := ifc.routers[vrid]
	d.mu.RUnlock()
	if r != nil {
		r.countDiscard(err)
		return
	}
	d.unknownVRID.Add(1)
	d.rateLog.log(fmt.Sprintf("%s/%v/%d/%s", ifc.key.name, ifc.key.fam, vrid, vrrp.Reason(err)), func(n uint64) {
		d.log.Warn("advert dropped", "interface", ifc.key.name, "family", ifc.key.fam.String(), "vrid", vrid, "reason", vrrp.Reason(err), "err", err, "count", n)
	})
}
