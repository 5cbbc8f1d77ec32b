package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/certs"
	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

func newCertsCmd(e *env) *command {
	c := &command{name: "certs", summary: "create the mesh's shared root CA and each cluster's intermediate CA, or --check them",
		usage: "certs -f FILE [-o DIR] [flags]\n       meshc certs --check [-f FILE] [--expiry-window D] [--format text|json] [DIR]"}
	c.flags = newFlagSet(e, c.name, c.usage)
	file := c.flags.String("f", "", "Mesh `file` whose clusters get an intermediate CA (with --check: that must have one)")
	dir := c.flags.String("o", "certs", "certificates `directory`; keep it out of version control (it holds private keys)")
	check := c.flags.Bool("check", false, "check an existing certificates directory instead of writing one")
	format := c.flags.String("format", "text", "with --check, `text`: path: message lines on stderr; json: a JSON array of problems on stdout")
	window := c.flags.Duration("expiry-window", certs.DefaultExpiryWindow, "with --check, report certificates expiring within this `duration`")
	force := c.flags.Bool("force", false, "re-issue the intermediates (new keys) of clusters that already have one; the root is never replaced")
	rootCert := c.flags.String("root-cert", "", "sign with this existing root CA certificate `file` (with --root-key)")
	rootKey := c.flags.String("root-key", "", "the root CA's private key `file` (never copied)")
	keySize := decimalFlag(c.flags, "key-size", certs.DefaultKeyBits, "RSA key size in `bits` of new keys: 2048, 3072 or 4096 (Istio's tools/certs use 4096)")
	rootDays := decimalFlag(c.flags, "root-days", 3650, "validity of a new root CA, in `days`")
	days := decimalFlag(c.flags, "days", 3650, "validity of new intermediate CAs, in `days` (never beyond the root's)")
	export := c.flags.Bool("export", false, "write nothing; print the mesh as a peer entry, with the root CA of DIR (-o) as its trust anchor, for a federated mesh's spec.peers")

	c.run = func(args []string) int {
		var clusters []string
		var meshName string
		if *file != "" {
			m, code := e.vet("certs", *file)
			if code != exitOK {
				return code
			}
			if *export {
				return e.exportPeer(m, *dir)
			}
			meshName = m.Metadata.Name
			for _, cl := range m.Spec.Clusters {
				clusters = append(clusters, cl.Name)
			}
		}
		if *window <= 0 || *window > certs.MaxValidity {
			fmt.Fprintf(e.stderr, "meshc certs: --expiry-window must be positive and at most %s (100 years), got %s\n", certs.MaxValidity, *window)
			return exitError
		}
		if *check {
			return e.checkCerts(*dir, args, clusters, *window, *format)
		}
		if *export {
			fmt.Fprintln(e.stderr, "meshc certs --export: give the Mesh file with -f (the peer entry names its mesh ID, trust domain and gateways)")
			return exitError
		}
		if len(args) != 0 || *file == "" {
			fmt.Fprintln(e.stderr, "meshc certs: give the Mesh file with -f (clusters come from it)")
			c.flags.Usage()
			return exitError
		}
		if !e.daysValid(*rootDays, *days) {
			return exitError
		}
		res, err := certs.Generate(certs.Options{
			Dir: *dir, Clusters: clusters, Force: *force, KeyBits: *keySize,
			RootCert: *rootCert, RootKey: *rootKey,
			Mesh: meshName, Inputs: []string{*file},
			RootValidity: time.Duration(*rootDays) * 24 * time.Hour,
			Validity:     time.Duration(*days) * 24 * time.Hour,
		})
		if err != nil {
			return e.fail("certs", err)
		}
		e.printEvents(res.Events)
		if e.printFindings(res.Findings) {
			fmt.Fprintln(e.stderr, "meshc certs: the directory has the problems above; files kept from earlier runs are never replaced: fix them, or re-issue the intermediates with --force")
			return exitInvalid
		}
		return exitOK
	}
	return c
}

// daysValid checks --root-days and --days, printing what is wrong. Zero
// days would mean the library's default; as a flag value it is a mistake.
// Days are checked before they become a Duration, which past 106,751 days
// wraps around. Key size and the rest are checked by certs.Generate.
func (e *env) daysValid(rootDays, days int) bool {
	maxDays := int(certs.MaxValidity / (24 * time.Hour))
	for _, f := range []struct {
		name string
		days int
	}{{"--root-days", rootDays}, {"--days", days}} {
		if f.days < 1 || f.days > maxDays {
			fmt.Fprintf(e.stderr, "meshc certs: %s must be from 1 to %d days (100 years), got %d\n", f.name, maxDays, f.days)
			return false
		}
	}
	return true
}

// printEvents says, one line each, what certs.Generate did.
func (e *env) printEvents(events []certs.Event) {
	for _, ev := range events {
		p := displayName(ev.Path)
		switch {
		case ev.Cluster == "":
			fmt.Fprintf(e.stdout, "%-8s %s (root CA)\n", ev.Status, p)
		case ev.Status == certs.Kept:
			fmt.Fprintf(e.stdout, "%-8s %s/ (intermediate CA of %s; --force re-issues it)\n", ev.Status, p, ev.Cluster)
		default:
			fmt.Fprintf(e.stdout, "%-8s %s/ (intermediate CA of %s)\n", ev.Status, p, ev.Cluster)
		}
	}
}

// checkCerts is `certs --check` of dir, or of the one directory args name:
// it prints each finding as a problem, "path: message" on stderr or JSON on
// stdout, and exits 1 when there is any, like vet does for a Mesh file.
func (e *env) checkCerts(dir string, args, clusters []string, window time.Duration, format string) int {
	switch len(args) {
	case 0:
	case 1:
		dir = args[0]
	default:
		fmt.Fprintf(e.stderr, "meshc certs --check: expected at most one directory, got %d arguments\n", len(args))
		return exitError
	}
	if !e.oneOf("certs", "--format", format, diag.Formats) {
		return exitError
	}
	findings, err := certs.Verify(certs.VerifyOptions{Dir: dir, Clusters: clusters, Window: window})
	if err != nil {
		return e.fail("certs", err)
	}
	if format == "json" {
		return e.printProblemsJSON(findingProblems(findings))
	}
	if e.printFindings(findings) {
		return exitInvalid
	}
	fmt.Fprintf(e.stdout, "%s: every intermediate chains to %s and is valid for at least %s\n",
		displayName(dir), displayName(filepath.Join(dir, certs.RootCertFile)), window)
	return exitOK
}

// printFindings prints each finding as "path: message" on stderr and reports
// whether there were any.
func (e *env) printFindings(findings []certs.Finding) bool {
	diag.Print(e.stderr, findingProblems(findings), "text")
	return len(findings) > 0
}

// findingProblems are the findings of certs.Verify as problems: the file
// at fault, as messages show paths, and what is wrong with it.
func findingProblems(findings []certs.Finding) diag.Problems {
	var ps diag.Problems
	for _, f := range findings {
		ps = append(ps, diag.Problem{Pos: token.Position{Filename: displayName(f.Path)}, Message: f.Message})
	}
	return ps
}

// exportPeer prints m as a peer entry with dir's root CA as its trust
// anchor: what the team of a federated mesh pastes under its spec.peers.
func (e *env) exportPeer(m *mesh.Mesh, dir string) int {
	root, err := os.ReadFile(filepath.Join(dir, certs.RootCertFile))
	if err != nil {
		fmt.Fprintf(e.stderr, "meshc certs --export: %v (create the root with meshc certs -f FILE -o %s first)\n", err, displayName(dir))
		return exitError
	}
	entry, err := render.PeerEntry(m, root)
	if err != nil {
		fmt.Fprintf(e.stderr, "meshc certs --export: %s: %v\n", displayName(filepath.Join(dir, certs.RootCertFile)), err)
		return exitInvalid
	}
	if nets := render.UnreachedNetworks(m); len(nets) > 0 {
		fmt.Fprintf(e.stderr, "meshc certs --export: no east-west gateway with an address leads to network %s; the entry gives the peer no way there (set eastWestGateway.address on a cluster there)\n", strings.Join(nets, ", "))
	}
	e.stdout.Write(entry)
	return exitOK
}
