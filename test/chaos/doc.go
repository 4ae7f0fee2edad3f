// Package chaos is `make chaos`: the reliability campaign of issue 12. Each
// case does one bad thing to real govrrpd processes (built as shipped) in
// throw-away network namespaces, bounded in time and count, measures what
// happened and checks it against what govrrpd promises (docs/RELIABILITY.md):
//
//   - bad-input: hostile and malformed adverts from a host on the LAN;
//   - flood: the same at the highest rate the flooder reaches;
//   - partition: VRRP (protocol 112) dropped between the two routers by
//     nftables inside their namespaces, healed, three times, while a host
//     pings the virtual address;
//   - kill9: SIGKILL of the Master, the Backup's takeover, what the dead
//     daemon left behind and whether a restart cleans it up;
//   - reload-storm: SIGHUPs to Master and Backup, valid and invalid files
//     alternating;
//   - config-*: the configuration mistakes of issue 12, through `govrrp
//     validate` and through SIGHUP to a running daemon.
//
// It is a test that runs only when asked, so `go test ./...` (make test)
// skips it:
//
//	go test -count=1 -timeout 20m -v -run '^TestChaos$' ./test/chaos -chaos-report [-cases partition,kill9]
//
// It writes the figures between the markers of docs/RELIABILITY.md. A case
// whose promise is broken fails the test, after the report is written. It
// needs root, ip, nft and tcpdump; everything it creates (namespaces,
// processes, nftables tables inside the namespaces) is removed at the end,
// on failure and on SIGINT/SIGTERM (internal/lab: its LAN and lab.Proc).
package chaos
