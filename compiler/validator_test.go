package compiler_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/output"
	"meshc.dev/meshc/render"
)

var (
	setDefaultRevision = regexp.MustCompile(`--set defaultRevision=(\S+)`)
	valuesFile         = regexp.MustCompile(` -f (\S+)`)
	defaultRevisionKey = regexp.MustCompile(`(?m)^defaultRevision: "?([^"\s]+)"?$`)
	istiodRelease      = regexp.MustCompile(`^helm (upgrade --install|uninstall) istiod-(\S+) `)
)

// On the Helm path, Istio's default validating webhook calls the istiod of
// the base chart's defaultRevision, and istiod sets it to fail closed: at
// every step of a change plan, in every cluster, it must name a revision
// whose istiod is there (installed before the plan, or by an earlier step),
// or every Istio resource in the cluster is refused. The revisions come from
// the Meshes; the steps from the plan.
func TestDefaultValidatorAlwaysServed(t *testing.T) {
	checked := 0
	for _, c := range changeCases(t) {
		if !c.new.UsesHelm() || c.new.Spec.Istio.Revision == "" {
			continue
		}
		p, err := render.BuildChangePlan(c.old, c.new, render.ChangeOptions{Reissued: c.reissued})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out, err := render.Render(c.new)
		if err != nil {
			t.Fatal(err)
		}
		// A remote reaches its primary's istiod through the primary's
		// east-west gateway: where the plan installs that gateway, the
		// remote's new revision serves only once it has run.
		gatewayPending := map[string]bool{}
		for _, ph := range p.Phases {
			for _, s := range ph.Steps {
				if ph.ID == render.PhasePrimaryGateways {
					gatewayPending[s.Cluster] = true
				}
			}
		}
		running := map[string][]string{}
		for _, cl := range c.old.ClusterNames() {
			running[cl] = c.old.InstalledRevisions()
		}
		for _, ph := range p.Phases {
			for _, s := range ph.Steps {
				if ph.ID == render.PhasePrimaryGateways {
					gatewayPending[s.Cluster] = false
				}
				if m := istiodRelease.FindStringSubmatch(s.Command); m != nil {
					if m[1] == "uninstall" {
						running[s.Cluster] = slices.DeleteFunc(running[s.Cluster], func(r string) bool { return r == m[2] })
					} else {
						running[s.Cluster] = append(running[s.Cluster], m[2])
					}
				}
				if !strings.HasPrefix(s.Command, "helm upgrade --install istio-base ") {
					continue
				}
				checked++
				def := valuesDefaultRevision(t, out, s.Command)
				if m := setDefaultRevision.FindStringSubmatch(s.Command); m != nil {
					def = m[1]
				}
				// A cluster that joins has no webhook to fail closed: its first
				// install renders failurePolicy Ignore.
				served := slices.Contains(running[s.Cluster], def)
				if cl := c.new.Cluster(s.Cluster); served && cl.Role == "remote" && def == c.new.Spec.Istio.Revision && gatewayPending[cl.ControlPlane] {
					served = false
				}
				if c.old.Cluster(s.Cluster) != nil && !served {
					t.Errorf("%s: phase %s points %s's default validation at istiod-%s, which it does not run, or reach through its primary's gateway, yet (runs %v)", c.name, ph.ID, s.Cluster, def, running[s.Cluster])
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no change case installs the base chart of a revisioned Helm mesh")
	}
}

// valuesDefaultRevision is the defaultRevision of the values file the
// helm command applies, from the rendered output.
func valuesDefaultRevision(t *testing.T, out *output.Output, command string) string {
	t.Helper()
	f := valuesFile.FindStringSubmatch(command)
	if f == nil || out.Lookup(f[1]) == nil {
		t.Fatalf("no values file rendered for %s", command)
	}
	m := defaultRevisionKey.FindSubmatch(out.Lookup(f[1]).Data)
	if m == nil {
		t.Fatalf("%s sets no defaultRevision", f[1])
	}
	return string(m[1])
}
