// Package bfd is the codec of Bidirectional Forwarding Detection control
// packets (RFC 5880 §4.1) as used single-hop over UDP (RFC 5881): decoding
// with the receive checks of RFC 5880 §6.8.6, one sentinel error each, and
// encoding into a caller's buffer without allocating. It does no I/O.
//
// Not implemented: authentication (a packet with the A bit set is refused
// with ErrAuth, RFC 5880 §6.8.6 "no authentication in use"), echo mode (we
// always advertise Required Min Echo RX Interval 0) and demand mode (we never
// set D).
//
// The session state machine is in package bfd/session.
package bfd
