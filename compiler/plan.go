package compiler

import (
	"bytes"
	"fmt"
	"path"

	"meshc.dev/meshc/templates"
)

// Plan is the ordered list of commands that installs a rendered mesh. Paths
// in commands are relative to the output directory.
type Plan struct {
	Name         string  `json:"name"`
	MeshID       string  `json:"meshID"`
	IstioVersion string  `json:"istioVersion"`
	Phases       []Phase `json:"phases"`
}

// Phase is a group of steps that may run in any order among themselves but
// only after every earlier phase has finished.
type Phase struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Steps []Step `json:"steps"`
}

// Step is one command run against one cluster's kubeconfig context.
type Step struct {
	Cluster string `json:"cluster"`
	Context string `json:"context"`
	// Command is a POSIX shell command line, with arguments quoted.
	Command string `json:"command"`
}

// RemoteSecret is one `istioctl create-remote-secret` pair: the primary
// Reader watches the API server of cluster Source.
type RemoteSecret struct {
	Reader *Cluster
	Source *Cluster
}

// RemoteSecrets lists every pair the mesh needs. Every primary watches the
// API server of every other cluster for endpoints, so P primaries in an
// N-cluster mesh need P×(N−1) secrets. Order: by reader, then by source, in
// input order.
func RemoteSecrets(m *Mesh) []RemoteSecret {
	var out []RemoteSecret
	for i := range m.Spec.Clusters {
		r := &m.Spec.Clusters[i]
		if !r.IsPrimary() {
			continue
		}
		for j := range m.Spec.Clusters {
			if i != j {
				out = append(out, RemoteSecret{Reader: r, Source: &m.Spec.Clusters[j]})
			}
		}
	}
	return out
}

// BuildPlan orders the install the way the Istio multicluster guides do:
// istio-system first, then primaries and their gateways, exposure, remote
// secrets, and remotes last (a remote's webhook calls its primary's istiod).
func BuildPlan(m *Mesh) *Plan {
	p := &Plan{Name: m.Metadata.Name, MeshID: m.Spec.MeshID, IstioVersion: m.Spec.Istio.Version}
	add := func(id, title string, steps []Step) {
		if len(steps) > 0 {
			p.Phases = append(p.Phases, Phase{ID: id, Title: title, Steps: steps})
		}
	}
	each := func(keep func(*Cluster) bool, cmd func(*Cluster, string) string) []Step {
		var steps []Step
		for i := range m.Spec.Clusters {
			c := &m.Spec.Clusters[i]
			if keep(c) {
				ctx := templates.Shell(c.Context)
				steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: cmd(c, ctx)})
			}
		}
		return steps
	}
	all := func(*Cluster) bool { return true }
	primary := func(c *Cluster) bool { return c.IsPrimary() }
	remote := func(c *Cluster) bool { return !c.IsPrimary() }
	gateway := func(want func(*Cluster) bool) func(*Cluster) bool {
		return func(c *Cluster) bool { return want(c) && c.EastWestGateway != nil }
	}
	file := func(c *Cluster, dir, name string) string { return templates.Shell(path.Join(c.Name, dir, name)) }

	add("namespaces", "Create istio-system with its network label", each(all, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("kubectl --context=%s apply -f %s", ctx, file(c, ManifestsDir, "namespace.yaml"))
	}))
	add("primaries", "Install the control plane of each primary", each(primary, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, file(c, InstallDir, "istio.yaml"))
	}))
	add("primary-gateways", "Install the east-west gateways of the primaries", each(gateway(primary), func(c *Cluster, ctx string) string {
		return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, file(c, InstallDir, "eastwest-gateway.yaml"))
	}))
	add("expose", "Expose services and istiod through the east-west gateways", each(primary, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("kubectl --context=%s apply -k %s", ctx, templates.Shell(path.Join(c.Name, ManifestsDir)))
	}))
	var secrets []Step
	for _, s := range RemoteSecrets(m) {
		secrets = append(secrets, Step{
			Cluster: s.Reader.Name, Context: s.Reader.Context,
			Command: fmt.Sprintf("istioctl create-remote-secret --context=%s --name=%s | kubectl apply -f - --context=%s",
				templates.Shell(s.Source.Context), templates.Shell(s.Source.Name), templates.Shell(s.Reader.Context)),
		})
	}
	add("remote-secrets", "Give every primary read access to every other cluster's API server", secrets)
	add("remotes", "Install each remote, pointed at its primary's istiod", each(remote, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, file(c, InstallDir, "istio.yaml"))
	}))
	add("remote-gateways", "Install the east-west gateways of the remotes", each(gateway(remote), func(c *Cluster, ctx string) string {
		return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, file(c, InstallDir, "eastwest-gateway.yaml"))
	}))
	return p
}

// RenderPlanMarkdown writes the plan as the PLAN.md a human follows.
func RenderPlanMarkdown(p *Plan) ([]byte, error) {
	var buf bytes.Buffer
	if err := templates.Set.ExecuteTemplate(&buf, "plan.md.tmpl", p); err != nil {
		return nil, fmt.Errorf("rendering plan: %w", err)
	}
	return buf.Bytes(), nil
}
