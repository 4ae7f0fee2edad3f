// Package version holds the build's version, set with
// -ldflags "-X govrrp/internal/version.Version=...".
package version

// Version of govrrp; "dev" for builds outside `make build`.
var Version = "dev"
