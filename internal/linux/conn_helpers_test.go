package linux

import (
	"net"

	"golang.org/x/net/ipv6"
)

func setMcastHops6(pc net.PacketConn, hops int) error {
	p := ipv6.NewPacketConn(pc)
	ifi, err := net.InterfaceByName("eth0")
	if err != nil {
		return err
	}
	if err := p.SetMulticastInterface(ifi); err != nil {
		return err
	}
	return p.SetMulticastHopLimit(hops)
}
