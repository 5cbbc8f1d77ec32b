package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/diagram"
	"meshc.dev/meshc/mesh"
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
	// IstioctlPreviousVar is, on the istioctl path with spec.istio.previous,
	// the istioctl of the previous revision's release, which installs it:
	// istioctl installs the charts of its own release.
	IstioctlPreviousVar = "ISTIOCTL_PREVIOUS"
)

// Phase IDs, in the order BuildPlan emits them. Automation keys on them.
const (
	// PhaseGatewayAPI checks, first, that the clusters whose manifests hold
	// Gateway API objects (a peer's istio-remote Gateway) have the Gateway
	// API CRDs. meshc checks and does not install them: they are
	// cluster-wide, often installed and upgraded by the platform (GKE
	// manages them) or another gateway controller, and their version
	// follows the Istio release and every other user of the cluster.
	PhaseGatewayAPI = "gateway-api"
	PhaseNamespaces = "namespaces"
	// PhaseReaderRBAC applies, with a named revision, the reader role of
	// every release meshc targets in each cluster a primary reads, before
	// any istiod: an istiod of a newer revision reads the clusters before
	// their own install of it brings its role (istio/istio#59153). After
	// base, whose Helm release must create the service account it binds.
	PhaseReaderRBAC      = "reader-rbac"
	PhaseCACerts         = "cacerts"
	PhaseBase            = "base"
	PhasePrimaries       = "primaries"
	PhasePrimaryGateways = "primary-gateways"
	PhaseExpose          = "expose"
	PhaseRemoteSecrets   = "remote-secrets"
	PhaseRemotes         = "remotes"
	PhaseRemoteGateways  = "remote-gateways"
	// PhaseVMFiles gathers each workload group's files for its VMs, with
	// the root certificate and a bootstrap token (vm.go).
	PhaseVMFiles = "vm-files"
	// PhaseLearnAddresses reads the east-west gateway addresses the Mesh
	// marks learnAddress, which the remotes' installs wait for.
	PhaseLearnAddresses = "learn-addresses"
	// PhaseGlobalServices labels, in an ambient mesh, the shared services
	// istio.io/global where they run, as the ambient guide's last step, and
	// those that name a waypoint istio.io/use-waypoint.
	PhaseGlobalServices = "global-services"
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
	RemoteSecrets string `json:"remoteSecrets"`
	// From names the mesh a change plan starts from; "" for a full plan.
	From string `json:"from,omitempty"`
	// Installer is the mesh's spec.installer: istioctl or helm.
	Installer string `json:"installer"`
	// HelmRepository is, with the helm installer, the chart repository
	// the helm commands name as istio/<chart>; nil otherwise.
	HelmRepository *HelmRepository `json:"helmRepository,omitempty"`
	Variables      []Variable      `json:"variables"`
	Phases         []Phase         `json:"phases"`
	// GitOps is, with spec.gitops, how to let the engine install the mesh
	// instead of running the phases; nil otherwise and in change plans.
	GitOps *GitOpsBootstrap `json:"gitops,omitempty"`
	// Diagram is the mesh's picture, which PLAN.md opens with as Mermaid.
	Diagram *diagram.Graph `json:"-"`
	// Kept lists, in a change plan, what the old mesh put into the clusters
	// and the new one does not, which the plan leaves in place, and why.
	Kept []Kept `json:"kept,omitempty"`
	// NeedsGatewayAPI: the primaries' manifests hold Gateway API objects
	// (a peer's istio-remote Gateways, an ambient mesh's east-west gateway
	// and waypoints), which need the Gateway API CRDs in their clusters.
	NeedsGatewayAPI bool `json:"needsGatewayAPI,omitempty"`
	// RestartIstiodOnRemoteSecretChange: an ambient mesh on several
	// networks, whose istiods may stop sending another network's gateway
	// after that cluster's remote secret changes (docs/ambient.md), until
	// they restart.
	RestartIstiodOnRemoteSecretChange bool `json:"restartIstiodOnRemoteSecretChange,omitempty"`
	// GatewayAPIObjects says which Gateway API objects the manifests hold:
	// the reason the CRDs are needed.
	GatewayAPIObjects []string `json:"gatewayAPIObjects,omitempty"`
	// OwnIstiodAddresses are the primaries whose remotes or VMs reach
	// istiod at an istiod.address: meshc routes nothing there, so the plan
	// says what must.
	OwnIstiodAddresses []OwnIstiodAddress `json:"ownIstiodAddresses,omitempty"`
	// CertManager is, with spec.ca.issuer cert-manager or istio-csr, the
	// cert-manager and Issuer every cluster runs; nil otherwise.
	CertManager *PlanCertManager `json:"certManager,omitempty"`
	// IstioCSR is, with spec.ca.issuer istio-csr, the chart the istio-csr
	// phase installs; nil otherwise.
	IstioCSR *PlanIstioCSR `json:"istioCSR,omitempty"`
}

// OwnIstiodAddress is a primary's istiod.address and who dials it.
type OwnIstiodAddress struct {
	Cluster string `json:"cluster"`
	Address string `json:"address"`
	// Remotes are the remotes that reach istiod there (xDS on 15012, the
	// injection webhook on 15017); VMGroups the workload groups, as
	// namespace/name, whose VMs do (15012 only).
	Remotes  []string `json:"remotes,omitempty"`
	VMGroups []string `json:"vmGroups,omitempty"`
}

// ownIstiodAddresses lists the primaries that give istiod.address, with
// the remotes and VM groups that dial it.
func ownIstiodAddresses(placements []*mesh.Placement) []OwnIstiodAddress {
	var out []OwnIstiodAddress
	for _, p := range placements {
		if p == nil {
			continue
		}
		c := p.Cluster
		if !p.IsPrimary() || c.Istiod == nil || c.Istiod.Address == "" {
			continue
		}
		a := OwnIstiodAddress{Cluster: c.Name, Address: c.Istiod.Address}
		for _, r := range p.Remotes {
			a.Remotes = append(a.Remotes, r.Name)
		}
		for _, g := range p.WorkloadGroups() {
			a.VMGroups = append(a.VMGroups, g.Namespace+"/"+g.Name)
		}
		if len(a.Remotes)+len(a.VMGroups) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// HelmRepository is a Helm chart repository: helm repo add Name URL.
type HelmRepository struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ManagementContextVar is, for PLAN.md, the variable of the GitOps
// bootstrap commands.
func (*Plan) ManagementContextVar() string { return ManagementContextVar }

// DiagramFile is where PLAN.md points for the picture as SVG.
func (*Plan) DiagramFile() string { return DiagramFile }

// Variable is an environment variable the commands expect, with the value
// the shell script falls back to.
type Variable struct {
	Name        string `json:"name"`
	Default     string `json:"default"`
	Description string `json:"description"`
	// Directory: the value is a directory, which the script resolves to
	// an absolute path before it changes into the output.
	Directory bool `json:"directory,omitempty"`
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
	// Destructive marks a step that deletes from a cluster or restarts its
	// workloads: change plans guard it (MESHC_ALLOW_DESTRUCTIVE).
	Destructive bool `json:"destructive,omitempty"`
	// Disruptive marks a step that restarts workloads (their pods are
	// replaced, one rollout at a time).
	Disruptive bool `json:"disruptive,omitempty"`

	// applies lists the rendered files the step applies, by path: what a
	// change plan compares to decide whether the step must run again.
	applies []string
	// removes lists, for a change plan's removal, what it takes out of the
	// cluster (holding keys, removals.go).
	removes []string
	// as is, for the previous revision's install, the command of the same
	// install as the Mesh's own revision would write it: a change plan
	// compares installs by it, so the revision an upgrade keeps is not
	// installed again from the file it has moved to.
	as string
	// version is the Istio release the step's install is of, when not
	// the Mesh's (the previous revision's).
	version string
}

// Applies lists the rendered files the step applies, by path.
func (s Step) Applies() []string { return s.applies }

// planPhases are the plan's phases in order. BuildPlan orders the install
// the way the Istio multicluster guides do: istio-system and the shared root
// of trust (cacerts) first, since istiod creates its own self-signed CA if it
// starts without one; then primaries and their gateways, exposure, remote
// secrets, and remotes last (a remote's webhook calls its primary's istiod).
// Every phase but cacerts and remote-secrets applies the artifacts whose
// Phase it is.
var planPhases = []struct{ id, title string }{
	{PhaseGatewayAPI, "Check that the clusters holding Gateway API objects have the Gateway API CRDs"},
	{PhaseCertManager, "Check that every cluster runs a ready cert-manager"},
	{PhaseNamespaces, "Create istio-system with its topology label or annotation"},
	{PhaseCACerts, "Give every cluster its intermediate CA, signed by the mesh's shared root"},
	{PhaseIssuer, "Give every cluster the Issuer istio-csr signs with, and the mesh's root it hands out"},
	{PhaseIstioCSR, "Install istio-csr, which signs workload certificates in place of istiod"},
	{PhaseVerifyRoot, "Check that every cluster's issuer chains to the mesh's root"},
	{PhaseBase, "Install Istio's CRDs and cluster-wide resources (the base chart)"},
	{PhaseReaderRBAC, "Give the primaries' reader, in every cluster they read, the role every Istio release needs"},
	{PhasePrimaries, "Install the control plane of each primary"},
	{PhasePrimaryGateways, "Install the east-west gateways of the primaries"},
	{PhaseExpose, "Expose services and istiod through the east-west gateways"},
	{PhaseRemoteSecrets, "Give every primary read access to every other cluster's API server"},
	{PhaseRemotes, "Install each remote, pointed at its primary's istiod"},
	{PhaseRemoteGateways, "Install the east-west gateways of the remotes"},
	{PhaseVMFiles, "Gather each workload group's files for its virtual machines"},
	{PhaseLearnAddresses, "Read the east-west gateway addresses the remotes wait for"},
	{PhaseGlobalServices, "Label the shared services where they run: global, and their waypoint (ambient)"},
}

// BuildPlan orders the commands that install a rendered mesh, in
// planPhases. Every command is idempotent, so the plan can be re-run after a
// failure. The mesh must have passed Validate.
func BuildPlan(m *mesh.Mesh) *Plan {
	placements := placementsOf(m)
	p := newPlan(m, placements)
	p.Diagram = Diagram(m)
	p.GitOps = gitopsBootstrap(m)
	p.Phases = installPhases(m, placements)
	return p
}

// placementsOf is the placement of each cluster of m, in input order.
func placementsOf(m *mesh.Mesh) []*mesh.Placement {
	placements := make([]*mesh.Placement, len(m.Spec.Clusters))
	for i := range m.Spec.Clusters {
		placements[i] = m.Place(&m.Spec.Clusters[i])
	}
	return placements
}

// gatewayAPIKinds are the Gateway API objects a cluster's manifests may
// hold: which clusters hold them, how the gateway-api check's message names
// them, and how PLAN.md does.
var gatewayAPIKinds = []struct {
	holds       func(*mesh.Placement) bool
	short, long string
}{
	{(*mesh.Placement).ImportsFromPeers, "the peers' istio-remote Gateways", "a Gateway of class `istio-remote` for each network of the peers this mesh imports from"},
	{(*mesh.Placement).HasAmbientGateway, "the ambient east-west gateway", "the ambient east-west gateway, a Gateway of class `istio-east-west`"},
	{(*mesh.Placement).HasWaypoints, "the waypoints", "the waypoints, Gateways of class `istio-waypoint`"},
}

// gatewayAPIObjects names, for PLAN.md's gateway-api phase, the kinds of
// Gateway API objects the placements' manifests hold.
func gatewayAPIObjects(placements []*mesh.Placement) []string {
	var out []string
	for _, k := range gatewayAPIKinds {
		if slices.ContainsFunc(placements, func(pl *mesh.Placement) bool { return pl != nil && k.holds(pl) }) {
			out = append(out, k.long)
		}
	}
	return out
}

// newPlan is a plan of m without steps, picture or GitOps bootstrap: what
// it installs, with which installer, and the variables its commands use.
func newPlan(m *mesh.Mesh, placements []*mesh.Placement) *Plan {
	p := &Plan{
		APIVersion: PlanAPIVersion, Kind: PlanKind,
		Name: m.Metadata.Name, MeshID: m.Spec.MeshID, IstioVersion: m.Spec.Istio.Version,
		RemoteSecrets: m.Spec.RemoteSecrets, Installer: m.Spec.Installer,
	}
	p.GatewayAPIObjects = gatewayAPIObjects(placements)
	p.RestartIstiodOnRemoteSecretChange = m.AmbientMultiNetwork()
	p.NeedsGatewayAPI = len(p.GatewayAPIObjects) > 0
	if needsCertsDir(m) {
		p.Variables = []Variable{{
			Name: CertsDirVar, Default: DefaultCertsDir,
			Description: "directory written by meshc certs (one subdirectory per cluster)", Directory: true,
		}}
	}
	if m.UsesHelm() {
		p.HelmRepository = &HelmRepository{Name: HelmRepoName, URL: HelmRepoURL}
	} else if prev := m.Spec.Istio.Previous; prev != nil {
		p.Variables = append(p.Variables, Variable{
			Name: IstioctlPreviousVar, Default: "istioctl-" + prev.Version,
			Description: "istioctl of Istio " + prev.Version + ", which installs the previous revision " + prev.Revision,
		})
	}
	p.OwnIstiodAddresses = ownIstiodAddresses(placements)
	p.CertManager = planCertManager(m)
	p.IstioCSR = planIstioCSR(m)
	return p
}

// installPhases are the phases of m's full plan that have steps, in
// planPhases' order: what the plan puts into the clusters.
func installPhases(m *mesh.Mesh, placements []*mesh.Placement) []Phase {
	var phases []Phase
	for _, ph := range planPhases {
		var steps []Step
		switch ph.id {
		case PhaseCACerts:
			steps = caCertSteps(m, placements)
		case PhaseCertManager:
			steps = certManagerCheckSteps(m)
		case PhaseVerifyRoot:
			steps = verifyRootSteps(m)
		case PhaseRemoteSecrets:
			steps = remoteSecretSteps(m)
		case PhaseReaderRBAC:
			steps = readerRBACSteps(m)
		case PhaseLearnAddresses:
			steps = learnAddressSteps(placements)
		case PhaseVMFiles:
			steps = vmFileSteps(placements)
		case PhaseGatewayAPI:
			steps = gatewayAPISteps(placements)
		case PhaseGlobalServices:
			steps = globalServiceSteps(m)
		default:
			steps = artifactSteps(placements, ph.id)
		}
		if len(steps) > 0 {
			phases = append(phases, Phase{ID: ph.id, Title: ph.title, Steps: steps})
		}
	}
	return phases
}

// artifactSteps applies, cluster by cluster in input order, the artifacts
// whose Phase is phase.
func artifactSteps(placements []*mesh.Placement, phase string) []Step {
	var steps []Step
	for _, p := range placements {
		if p == nil {
			continue
		}
		c := p.Cluster
		for _, a := range Catalogue {
			if a.Scope != PerCluster || a.Phase != phase || a.Apply == WithDirectory || !a.For(p) {
				continue
			}
			s := Step{Cluster: c.Name, Context: c.Context, Command: applyCommand(a, a.placed(p)), applies: appliedFiles(a, p)}
			if a.Previous {
				s.as = applyCommand(a.own(), a.placed(p))
				s.version = p.Mesh.Spec.Istio.Previous.Version
				if a.Apply == Istioctl {
					// istioctl installs its own release's charts.
					s.Command = strings.Replace(s.Command, "istioctl ", "\"${"+IstioctlPreviousVar+"}\" ", 1)
				}
			}
			steps = append(steps, s)
		}
	}
	return steps
}

// appliedFiles lists the files a step applying a puts into the cluster.
func appliedFiles(a *Artifact, p *mesh.Placement) []string {
	if a.Apply != Kustomize {
		return []string{a.Path(p.Cluster.Name)}
	}
	var files []string
	for _, r := range Resources(p) {
		files = append(files, path.Join(p.Cluster.Name, a.Dir, r))
	}
	return files
}

// applyCommand is the command that applies artifact a of a cluster.
func applyCommand(a *Artifact, p *mesh.Placement) string {
	c := p.Cluster
	ctx := templates.Shell(c.Context)
	switch a.Apply {
	case Helm:
		return helmInstallCommand(a, p)
	case Istioctl:
		return fmt.Sprintf("istioctl install -y --context=%s -f %s", ctx, templates.Shell(a.Path(c.Name)))
	case Kubectl:
		return fmt.Sprintf("kubectl --context=%s apply -f %s", ctx, templates.Shell(a.Path(c.Name)))
	case Kustomize:
		return fmt.Sprintf("kubectl --context=%s apply -k %s", ctx, templates.Shell(path.Join(c.Name, a.Dir)))
	}
	panic(fmt.Sprintf("artifact %s/%s: no command applies it", a.Dir, a.Name))
}

// GatewayAPICRD is the CRD of the Gateway API kind meshc renders (Gateway,
// of class istio-remote, istio-east-west or istio-waypoint): the one the
// gateway-api phase looks for.
const GatewayAPICRD = "gateways.gateway.networking.k8s.io"

// gatewayAPISteps check, in each cluster whose manifests hold Gateway API
// objects, that the CRDs are there, and stop the plan with what to do when
// they are not.
func gatewayAPISteps(placements []*mesh.Placement) []Step {
	var steps []Step
	for _, p := range placements {
		if p == nil || !appliesGatewayAPI(p) {
			continue
		}
		c := p.Cluster
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			"kubectl --context=%s get crd %s >/dev/null || { echo %s >&2; exit 1; }",
			templates.Shell(c.Context), GatewayAPICRD,
			templates.Shell(fmt.Sprintf("plan: cluster %s has no Gateway API CRDs, needed by %s: install them (PLAN.md, phase %s) and run the plan again", c.Name, gatewayAPIUsers(p), PhaseGatewayAPI)))})
	}
	return steps
}

// gatewayAPIUsers names, for the gateway-api check's message, what in the
// cluster's manifests needs the CRDs.
func gatewayAPIUsers(p *mesh.Placement) string {
	var users []string
	for _, k := range gatewayAPIKinds {
		if k.holds(p) {
			users = append(users, k.short)
		}
	}
	return strings.Join(users, " and ")
}

// stubProbe prints a Service's managed-by label, type and selector; stubSeen
// is what it prints for one of meshc's stubs (the label, the default type,
// no selector). A Service that took a stub's place by a server-side apply (as
// Flux applies) keeps the label, but a user's has a selector or another type
// (ExternalName).
const (
	stubProbe = `jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}/{.spec.type}/{.spec.selector}`
	stubSeen  = ManagedByValue + "/ClusterIP/"
)

// globalServiceSteps label, in an ambient mesh, each global service's
// Service istio.io/global=true, and each service that names a waypoint
// istio.io/use-waypoint, in every cluster that runs it. The Service is the
// user's: a step labels it where it exists and otherwise says what its
// manifest must carry, without failing the plan, so the plan can run before
// the applications are deployed.
func globalServiceSteps(m *mesh.Mesh) []Step {
	var steps []Step
	for _, g := range m.LabelledServices() {
		c, s := g.Cluster, g.Service
		kubectl := fmt.Sprintf("kubectl --context=%s -n %s", templates.Shell(c.Context), templates.Shell(s.Namespace))
		label := strings.Join(g.Labels, " ")
		note := fmt.Sprintf("plan: service %s/%s is not in cluster %s yet: deploy it with the labels %s, or run this phase again", s.Namespace, s.Name, c.Name, label)
		// A Service stubProbe sees as a stub is the one an earlier mesh put
		// where the service did not run, which the prune deletes: not the
		// user's yet.
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			"if svc=$(%s get service %s -o %s 2>/dev/null) && [ \"$svc\" != %s ]; then %s label --overwrite service %s %s; else echo %s >&2; fi",
			kubectl, templates.Shell(s.Name), templates.Shell(stubProbe), templates.Shell(stubSeen), kubectl, templates.Shell(s.Name), label, templates.Shell(note))})
	}
	return steps
}

// learnAddressSteps print, for each primary whose remotes wait for its
// east-west gateway's address, the address its load balancer assigned.
func learnAddressSteps(placements []*mesh.Placement) []Step {
	var steps []Step
	for _, p := range placements {
		if c := p.Cluster; p.IsPrimary() && len(p.Remotes) > 0 && c.IstiodAddress() == "" {
			steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
				"kubectl --context=%s -n istio-system get service istio-eastwestgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}{\"\\n\"}'",
				templates.Shell(c.Context))})
		}
	}
	return steps
}

// caCertSteps gives every cluster its intermediate CA. Server-side apply: a
// client-side apply would copy the CA's private key into the
// last-applied-configuration annotation. Cluster names are DNS labels, safe
// inside double quotes.
func caCertSteps(m *mesh.Mesh, placements []*mesh.Placement) []Step {
	if m.UsesIstioCSR() {
		return nil // istiod is no CA: PhaseIssuer applies the Issuer
	}
	if m.UsesCertManager() {
		return certManagerIssueSteps(placements)
	}
	steps := make([]Step, 0, len(m.Spec.Clusters))
	for _, c := range m.Spec.Clusters {
		steps = append(steps, Step{Cluster: c.Name, Context: c.Context, Command: fmt.Sprintf(
			`kubectl --context=%s apply --server-side --field-manager=meshc -f "${%s}/%s/cacerts.yaml"`,
			templates.Shell(c.Context), CertsDirVar, c.Name)})
	}
	return steps
}

// labelOwned is the part of a remote-secret command that gives the Secret
// istioctl prints meshc's label before it is applied: a change plan deletes
// only Secrets that carry it.
const labelOwned = " | kubectl label --local -f - -o yaml " + ManagedByLabel + "=" + ManagedByValue

// remoteSecretSteps is one step per primary and other cluster: P×(N−1) of
// them, 89,700 in a 300-primary mesh, so each cluster's part of the command
// is quoted and formatted once, and each step is one concatenation.
func remoteSecretSteps(m *mesh.Mesh) []Step {
	pairs := mesh.RemoteSecrets(m)
	secrets := make([]Step, 0, len(pairs))
	source := make(map[*mesh.Cluster]string, len(m.Spec.Clusters))
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		server := ""
		if c.APIServer != "" {
			server = " --server=" + templates.Shell(c.APIServer)
		}
		source[c] = "istioctl create-remote-secret --context=" + templates.Shell(c.Context) +
			" --name=" + templates.Shell(c.Name) + server + labelOwned + " | kubectl apply -f - --context="
	}
	for _, s := range pairs {
		secrets = append(secrets, Step{
			Cluster: s.Reader.Name, Context: s.Reader.Context, Source: s.Source.Name,
			Command: source[s.Source] + templates.Shell(s.Reader.Context),
		})
	}
	return secrets
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
	if err := checkPlanText(p, ShellOptions{}); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(p.size())
	if err := templates.Set.ExecuteTemplate(&buf, planRow.Template, p); err != nil {
		return nil, fmt.Errorf("rendering plan: %w", err)
	}
	return buf.Bytes(), nil
}

// RenderPlanShell writes the plan as a bash script that stops at the first
// failing command and can be re-run from the start.
func RenderPlanShell(p *Plan, so ShellOptions) ([]byte, error) {
	if err := checkPlanText(p, so); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(p.size())
	data := struct {
		*Plan
		OutDir string
	}{p, so.OutDir}
	if err := templates.Set.ExecuteTemplate(&buf, planScriptRow.Template, data); err != nil {
		return nil, fmt.Errorf("rendering plan: %w", err)
	}
	return buf.Bytes(), nil
}

// phaseTitle is an install phase's title, as planPhases gives it.
func phaseTitle(id string) string {
	for _, ph := range planPhases {
		if ph.id == id {
			return ph.title
		}
	}
	return id
}
