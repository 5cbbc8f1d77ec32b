package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"meshc.dev/meshc/templates"
)

// PlanAPIVersion and PlanKind identify the JSON form of a plan, so tools
// that read it can tell which field names to expect.
const (
	PlanAPIVersion = "meshc.dev/v1alpha1"
	PlanKind       = "Plan"
)

// Variables the plan's commands use. They are environment variables of the
// shell script and placeholders in the Markdown and JSON forms.
const (
	// CertsDirVar is the directory `meshc certs` wrote; commands read
	// ${CERTS_DIR}/<cluster>/cacerts.yaml from it.
	CertsDirVar = "CERTS_DIR"
	// DefaultCertsDir is CERTS_DIR when unset, relative to where the plan
	// is run from: the directory `meshc certs` writes by default.
	DefaultCertsDir = "certs"
)

// Phase IDs, in the order BuildPlan emits them. Automation keys on them.
const (
	PhaseNamespaces      = "namespaces"
	PhaseCACerts         = "cacerts"
	PhasePrimaries       = "primaries"
	PhasePrimaryGateways = "primary-gateways"
	PhaseExpose          = "expose"
	PhaseRemoteSecrets   = "remote-secrets"
	PhaseRemotes         = "remotes"
	PhaseRemoteGateways  = "remote-gateways"
)

// Plan is the ordered list of commands that installs a rendered mesh. Paths
// in commands are relative to the output directory, except those under
// ${CERTS_DIR}. Its JSON field names are stable.
type Plan struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	MeshID       string `json:"meshID"`
	IstioVersion string `json:"istioVersion"`
	// RemoteSecrets is the mesh's spec.remoteSecrets: whether the
	// remote-secret steps have a declarative alternative in the output.
	RemoteSecrets string     `json:"remoteSecrets"`
	Variables     []Variable `json:"variables"`
	Phases        []Phase    `json:"phases"`
}

// Variable is an environment variable the commands expect, with the value
// the shell script falls back to.
type Variable struct {
	Name        string `json:"name"`
	Default     string `json:"default"`
	Description string `json:"description"`
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
	// Source is, for a remote-secret step, the cluster whose API server
	// Cluster's istiod is given access to.
	Source string `json:"source,omitempty"`
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
	primaries := 0
	for i := range m.Spec.Clusters {
		if m.Spec.Clusters[i].IsPrimary() {
			primaries++
		}
	}
	out := make([]RemoteSecret, 0, primaries*max(len(m.Spec.Clusters)-1, 0))
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
// istio-system and the shared root of trust (cacerts) first, since istiod
// creates its own self-signed CA if it starts without one; then primaries
// and their gateways, exposure, remote secrets, and remotes last (a remote's
// webhook calls its primary's istiod). Every command is idempotent, so the
// plan can be re-run after a failure.
func BuildPlan(m *Mesh) *Plan {
	p := &Plan{
		APIVersion: PlanAPIVersion, Kind: PlanKind,
		Name: m.Metadata.Name, MeshID: m.Spec.MeshID, IstioVersion: m.Spec.Istio.Version,
		RemoteSecrets: m.Spec.RemoteSecrets,
		Variables: []Variable{{
			Name: CertsDirVar, Default: DefaultCertsDir,
			Description: "directory written by meshc certs (one subdirectory per cluster)",
		}},
	}
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
	install := func(name string) func(*Cluster, string) string {
		return func(c *Cluster, ctx string) string {
			return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, file(c, InstallDir, name))
		}
	}

	add(PhaseNamespaces, "Create istio-system with its topology label or annotation", each(all, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("kubectl --context=%s apply -f %s", ctx, file(c, ManifestsDir, "namespace.yaml"))
	}))
	// Server-side apply: a client-side apply would copy the CA's private key
	// into the last-applied-configuration annotation. Cluster names are
	// DNS labels, safe inside double quotes.
	add(PhaseCACerts, "Give every cluster its intermediate CA, signed by the mesh's shared root", each(all, func(c *Cluster, ctx string) string {
		return fmt.Sprintf(`kubectl --context=%s apply --server-side --field-manager=meshc -f "${%s}/%s/cacerts.yaml"`, ctx, CertsDirVar, c.Name)
	}))
	add(PhasePrimaries, "Install the control plane of each primary", each(primary, install("istio.yaml")))
	add(PhasePrimaryGateways, "Install the east-west gateways of the primaries", each(gateway(primary), install("eastwest-gateway.yaml")))
	add(PhaseExpose, "Expose services and istiod through the east-west gateways", each(primary, func(c *Cluster, ctx string) string {
		return fmt.Sprintf("kubectl --context=%s apply -k %s", ctx, templates.Shell(path.Join(c.Name, ManifestsDir)))
	}))
	// One step per primary and other cluster: P×(N−1) of them, 89,700 in a
	// 300-primary mesh, so each cluster's part of the command is quoted and
	// formatted once, and each step is one concatenation.
	pairs := RemoteSecrets(m)
	secrets := make([]Step, 0, len(pairs))
	source := make(map[*Cluster]string, len(m.Spec.Clusters))
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		server := ""
		if c.APIServer != "" {
			server = " --server=" + templates.Shell(c.APIServer)
		}
		source[c] = "istioctl create-remote-secret --context=" + templates.Shell(c.Context) +
			" --name=" + templates.Shell(c.Name) + server + " | kubectl apply -f - --context="
	}
	for _, s := range pairs {
		secrets = append(secrets, Step{
			Cluster: s.Reader.Name, Context: s.Reader.Context, Source: s.Source.Name,
			Command: source[s.Source] + templates.Shell(s.Reader.Context),
		})
	}
	add(PhaseRemoteSecrets, "Give every primary read access to every other cluster's API server", secrets)
	add(PhaseRemotes, "Install each remote, pointed at its primary's istiod", each(remote, install("istio.yaml")))
	add(PhaseRemoteGateways, "Install the east-west gateways of the remotes", each(gateway(remote), install("eastwest-gateway.yaml")))
	return p
}

// SetDefault changes the fallback value of a plan variable, as `meshc plan
// --certs DIR` does for CERTS_DIR.
func (p *Plan) SetDefault(name, value string) {
	for i := range p.Variables {
		if p.Variables[i].Name == name {
			p.Variables[i].Default = value
		}
	}
}

// Plan formats accepted by RenderPlan.
const (
	PlanMarkdown = "markdown"
	PlanShell    = "shell"
	PlanJSON     = "json"
)

// PlanFormats lists the formats RenderPlan accepts, for usage messages.
var PlanFormats = []string{PlanMarkdown, PlanShell, PlanJSON}

// ShellOptions shape the shell form of a plan.
type ShellOptions struct {
	// OutDir is the rendered output directory the script changes into,
	// relative to where it is run. Empty means the script's own directory:
	// the plan.sh that render writes lives in the output it installs.
	OutDir string
}

// RenderPlan writes the plan in one of PlanFormats: Markdown for people
// (PLAN.md), a bash script for running it, JSON for automation.
func RenderPlan(p *Plan, format string, so ShellOptions) ([]byte, error) {
	switch format {
	case PlanMarkdown:
		return RenderPlanMarkdown(p)
	case PlanShell:
		return RenderPlanShell(p, so)
	case PlanJSON:
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("rendering plan: %w", err)
		}
		return append(b, '\n'), nil
	}
	return nil, fmt.Errorf("unknown plan format %q (want markdown, shell or json)", format)
}

// Script is the phase's commands, one per line, as the plan's shell blocks
// hold them. Joined in Go rather than ranged over in the templates: a phase
// can hold 89,700 remote secrets.
func (ph Phase) Script() string {
	n := 0
	for _, s := range ph.Steps {
		n += len(s.Command) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for i, s := range ph.Steps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.Command)
	}
	return b.String()
}

// size estimates the bytes of a rendered plan, so its buffer is allocated
// once.
func (p *Plan) size() int {
	n := 8 << 10
	for _, ph := range p.Phases {
		for _, s := range ph.Steps {
			n += len(s.Command) + 1
		}
	}
	return n
}

// RenderPlanMarkdown writes the plan as the PLAN.md a human follows.
func RenderPlanMarkdown(p *Plan) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(p.size())
	if err := templates.Set.ExecuteTemplate(&buf, "plan.md.tmpl", p); err != nil {
		return nil, fmt.Errorf("rendering plan: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderPlanShell writes the plan as a bash script that stops at the first
// failing command and can be re-run from the start.
func RenderPlanShell(p *Plan, so ShellOptions) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(p.size())
	data := struct {
		*Plan
		OutDir string
	}{p, so.OutDir}
	if err := templates.Set.ExecuteTemplate(&buf, "plan.sh.tmpl", data); err != nil {
		return nil, fmt.Errorf("rendering plan: %w", err)
	}
	return buf.Bytes(), nil
}
