package main

import (
	"context"
	"log/slog"
	"time"

	"govrrp/internal/agentx"
	"govrrp/internal/config"
	"govrrp/internal/daemon"
	"govrrp/internal/snmp"
)

// processStart is the zero of the subagent's sysUpTime: before the routers
// start, so their TimeStamps (vrrpOperVirtualRouterUpTime) are after it.
var processStart = time.Now()

// startSNMP runs the AgentX subagent when snmp_agentx is set; the function
// it returns stops it (closing its session with snmpd).
func startSNMP(cfg *config.Config, d *daemon.Daemon, log *slog.Logger) (stop func()) {
	if cfg.SNMPAgentX == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sa := snmp.New(d, snmp.Options{Address: cfg.SNMPAgentX, Log: log.With("component", "snmp"), Agent: agentx.Config{Start: processStart}})
	go func() {
		defer close(done)
		sa.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
