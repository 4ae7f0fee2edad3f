package demo

import (
	"fmt"
	"net"
	"net/netip"

	"govrrp/internal/lab"
)

// box is one node of the demo's LAN with what the narration shows of it.
type box struct {
	*lab.Node
	MAC net.HardwareAddr // of eth0
	LL  netip.Addr       // of eth0: the source of IPv6 adverts
}

// Network is the demo's LAN (a lab.LAN): a bridge namespace, routers and
// one host.
type Network struct {
	lan     *lab.LAN
	undo    lab.Cleanups
	Base    string // gvlab<pid>-<n>
	Routers []*box
	Host    *box
}

// BuildNetwork creates the namespaces: a bridge, n routers with
// 10.77.0.i/24 and fd77::i/64 and a host with 10.77.0.100/24 and
// fd77::100/64. On error everything created so far is removed.
func BuildNetwork(n int) (nw *Network, err error) {
	nw = &Network{}
	defer func() {
		if err != nil {
			nw.Destroy()
			nw = nil
		}
	}()
	if nw.lan, err = lab.Build(&nw.undo, n); err != nil {
		return nil, err
	}
	nw.Base = nw.lan.Base()
	host, err := nw.lan.Attach(nw.Base+"-host", lab.HostIndex, lab.HostV4, lab.HostV6)
	if err != nil {
		return nil, err
	}
	for _, nd := range append([]*lab.Node{host}, nw.lan.Nodes...) {
		b, err := learn(nd)
		if err != nil {
			return nil, err
		}
		if nd == host {
			nw.Host = b
		} else {
			nw.Routers = append(nw.Routers, b)
		}
	}
	return nw, nil
}

// learn reads eth0's MAC and link-local address.
func learn(nd *lab.Node) (*box, error) {
	ifi, err := nd.Interface("eth0")
	if err != nil {
		return nil, fmt.Errorf("eth0 in %s: %w", nd.Name, err)
	}
	ll, err := nd.LinkLocal("eth0") // lab.Attach waited for it
	if err != nil {
		return nil, err
	}
	return &box{Node: nd, MAC: ifi.HardwareAddr, LL: ll}, nil
}

// SetCable pulls the node's cable (in false: its port on the bridge goes
// down, so its eth0 loses carrier) or puts it back.
func (nw *Network) SetCable(b *box, in bool) error { return nw.lan.SetCable(b.Node, in) }

// Names lists the namespaces of the lab.
func (nw *Network) Names() []string {
	if nw.lan == nil {
		return nil
	}
	return nw.lan.Names()
}

// Release closes the lab's handles without removing anything (--keep).
func (nw *Network) Release() {
	if nw.lan != nil {
		nw.lan.Keep()
	}
	nw.undo.Run()
}

// Destroy removes the namespaces (and with them every veth and the bridge).
// Processes still inside are killed; callers stop their daemons gracefully
// before.
func (nw *Network) Destroy() { nw.undo.Run() }
