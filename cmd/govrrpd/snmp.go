package main

import (
	"context"
	"log/slog"

	"govrrp/internal/config"
	"govrrp/internal/daemon"
	"govrrp/internal/snmp"
)

// startSNMP runs the AgentX subagent when snmp_agentx is set; the function
// it returns stops it (closing its session with snmpd).
func startSNMP(cfg *config.Config, d *daemon.Daemon, log *slog.Logger) (stop func()) {
	if cfg.SNMPAgentX == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sa := snmp.New(d, snmp.Options{Address: cfg.SNMPAgentX, Log: log.With("component", "snmp")})
	go func() {
		defer close(done)
		sa.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
