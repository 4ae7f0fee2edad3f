// Command govrrpd is the govrrp VRRP daemon: VRRPv2 (RFC 3768) and VRRPv3
// (RFC 5798/9568) over IPv4 and IPv6 on Linux.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/daemon"
	"govrrp/internal/daemoncli"
	"govrrp/internal/metrics"
	"govrrp/internal/version"
)

func main() {
	// Collect at 50% heap growth, not the default 100%, unless GOGC says
	// otherwise: in steady state the daemon allocates next to nothing, so
	// collections stay rare (an API or metrics request, a reload), and at
	// thousands of routers the heap, and with it RSS, stays within 1.5×
	// of what is live instead of 2× (docs/BENCHMARKS.md).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, exit := daemoncli.Parse(args, stdout, stderr)
	if exit >= 0 {
		return exit
	}
	// The checks of govrrp validate, from the same function.
	cfg, warns, err := config.LoadAndCheck(o.Config, config.System{})
	if o.Check || err != nil {
		for _, w := range warns {
			fmt.Fprintf(stderr, "govrrpd: %v (warning)\n", w)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "govrrpd: %v\n", err)
		return 1
	}
	if o.Check {
		fmt.Fprintf(stdout, "%s: OK (%d routers)\n", o.Config, len(cfg.Routers))
		return 0
	}
	log := newLogger(cfg.Log, stderr, logLevel)
	slog.SetDefault(log)
	for _, w := range warns {
		log.Warn("configuration", "warning", w.Error())
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "govrrpd: --cpuprofile: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var beforeStop func()
	if o.MemProfile != "" {
		runtime.MemProfileRate = 4096 // fine enough to see a per-router cost
		beforeStop = func() {
			f, err := os.Create(o.MemProfile)
			if err == nil {
				err = pprof.WriteHeapProfile(f)
				f.Close()
			}
			if err != nil {
				log.Error("--memprofile", "err", err)
			}
		}
	}
	if err := serve(cfg, o.Config, log, beforeStop); err != nil {
		log.Error("govrrpd stopped", "err", err)
		return 1
	}
	return 0
}

// logLevel is the level of the daemon's log, which govrrp log-level changes
// at run time (daemon.Options.Level).
var logLevel = new(slog.LevelVar)

func newLogger(c config.Log, w io.Writer, level *slog.LevelVar) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.Level))
	level.Set(l)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(cfg *config.Config, file string, log *slog.Logger, beforeStop func()) error {
	gid := -1
	if cfg.ControlGroup != "" {
		g, err := user.LookupGroup(cfg.ControlGroup)
		if err != nil {
			return fmt.Errorf("control_group %q: %w", cfg.ControlGroup, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	ln, err := api.Listen(cfg.ControlSocket, gid)
	if err != nil {
		return err
	}
	d := daemon.New(cfg, daemon.Options{Log: log, ConfigFile: file, HookTimeout: cfg.NotifyTimeout, Level: logLevel})
	if err := d.Start(); err != nil {
		ln.Close()
		d.Stop()
		return err
	}
	apiSrv := api.NewServer(d, api.DefaultLimits())
	go apiSrv.Serve(ln)

	var metricsSrv *metrics.Server
	if cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			log.Error("metrics_listen", "err", err)
		} else {
			metricsSrv = metrics.NewServer(metrics.DefaultLimits(), metrics.New(d.Details), metrics.NewDaemon(d.Daemon), metrics.NewInterfaces(d.Interfaces), metrics.NewBFD(d.BFD))
			go metricsSrv.Serve(mln)
		}
	}
	stopSNMP := startSNMP(cfg, d, log)
	log.Info("govrrpd started", "version", version.Version, "config", file, "routers", len(cfg.Routers), "control_socket", cfg.ControlSocket)
	sdNotify("READY=1")

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			sdNotify("RELOADING=1")
			// A refused file is logged by the daemon, once.
			d.Reload()
			sdNotify("READY=1")
			continue
		}
		log.Info("stopping", "signal", sig.String())
		// The stop waits for the notify hooks it causes (notify_stop and
		// the transitions to Initialize), each run killed at
		// notify_timeout, before it removes the macvlans: systemd's
		// TimeoutStopSec must not kill it first, whatever notify_timeout
		// says (the shipped unit's covers the default).
		sdNotify(fmt.Sprintf("STOPPING=1\nEXTEND_TIMEOUT_USEC=%d", daemoncli.StopTimeout(cfg.NotifyTimeout).Microseconds()))
		break
	}
	signal.Stop(sigs)
	if beforeStop != nil {
		beforeStop()
	}
	// Routers first: masters must resign (priority 0) at once, and an open
	// event stream (govrrp watch) would hold the API's Shutdown for its
	// whole timeout. Stop also ends every event stream.
	d.Stop() // removes the record of the addresses too (config.Unrecord)
	stopSNMP()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = apiSrv.Shutdown(ctx)
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(ctx)
	}
	log.Info("govrrpd stopped")
	return nil
}

// sdNotify tells systemd (Type=notify) about readiness. It is the whole of
// the protocol we need, so it is written here rather than importing a
// library: one datagram to $NOTIFY_SOCKET.
func sdNotify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(state))
}
