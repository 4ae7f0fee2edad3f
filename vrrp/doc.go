// Package vrrp encodes, decodes and validates VRRP messages: VRRPv2 (RFC 3768)
// and VRRPv3 (RFC 5798 as replaced by RFC 9568), over IPv4 and IPv6.
//
// It does no I/O. The caller hands it the IP payload and the facts of the IP
// header it arrived in (source, destination, TTL or hop limit); sockets live
// in the daemon's Linux layer.
//
// Where each part of the spec lives (section numbers of the project's
// spec/VRRP.md, requirement IDs as it cites them):
//
//	message.go   §3   packet formats, v2 and v3          [5798-5.2.*] [3768-5.3.*]
//	checksum.go  §4   RFC 1071 sum, pseudo-header forms  [5798-5.2.8-a] [9568-5.2.8-a] [3768-5.3.8-a]
//	auth.go      §1.2 v2 authentication (RFC 2338 type 1) [3768-5.3.6-a] [IMPL-1]
//	validate.go  §7   receive checks, in the spec's order [5798-7.1-*] [3768-7.1-*] [E8298..E8301]
//	errors.go    §7   one sentinel per receive-check failure
package vrrp
