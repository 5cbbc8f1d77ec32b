package render

import (
	"io/fs"
	"path"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/output"
)

// Directory and file names of the rendered tree. install/ holds istioctl
// inputs (IstioOperator is not a resource kubectl can apply); manifests/ is a
// kustomization kubectl applies as is.
const (
	InstallDir   = "install"
	ManifestsDir = "manifests"
	// HelmDir holds, with spec.installer: helm, the values files of Istio's
	// charts that helm upgrade --install -f reads, in place of install/.
	HelmDir  = "helm"
	PlanFile = "PLAN.md"
	// PlanScript is the plan as a runnable script.
	PlanScript = "plan.sh"
	// DiagramFile is the picture of the mesh, next to PLAN.md, which shows
	// the same picture as Mermaid.
	DiagramFile = "mesh.svg"
	// RemoteAccessDir holds, in a cluster other primaries watch, the reader
	// service account, token and RBAC: complete, apply as is.
	RemoteAccessDir = "remote-access"
	// RemoteSecretsDir holds, in a primary, one remote secret per cluster it
	// watches, with credential placeholders: kept apart from manifests/ so
	// nothing applies them before they are filled in.
	RemoteSecretsDir = "remote-secrets"
	// ReaderTokenSecret is the reader token Secret; the name istioctl
	// create-remote-secret creates and reuses.
	ReaderTokenSecret = "istio-reader-service-account-istio-remote-secret-token"

	// ControlPlaneFile is every cluster's IstioOperator: istiod on a
	// primary, the remote profile on a remote.
	ControlPlaneFile = "istio.yaml"
	// EastWestGatewayFile is the IstioOperator of a cluster's east-west
	// gateway.
	EastWestGatewayFile = "eastwest-gateway.yaml"
	// NamespaceFile is istio-system with its topology label and annotation.
	NamespaceFile = "namespace.yaml"
	// KustomizationFile lists the manifests/ resources in apply order.
	KustomizationFile = "kustomization.yaml"
	// FederationGatewayFile is the Gateway that passes the hosts the mesh
	// exports to its peers; FederationPeersFile holds, per peer the mesh
	// imports from, its network gateways and the imported services.
	FederationGatewayFile = "federation-gateway.yaml"
	FederationPeersFile   = "federation-peers.yaml"
	// RevisionTagsFile holds the revision tags' webhooks and Services: an
	// upgrade moves a tag by applying it again (docs/upgrade.md).
	RevisionTagsFile = "revision-tags.yaml"
	// ReaderAccessFile is, in remote-access/, the reader service account,
	// token and RBAC of a cluster other primaries watch.
	ReaderAccessFile = "istio-reader.yaml"

	// BaseValuesFile, IstiodValuesFile and EastWestGatewayValuesFile are, in
	// helm/, the values of Istio's base, istiod and gateway charts.
	BaseValuesFile            = "base.values.yaml"
	IstiodValuesFile          = "istiod.values.yaml"
	EastWestGatewayValuesFile = "eastwest-gateway.values.yaml"
	// PreviousControlPlaneFile and PreviousIstiodValuesFile are the
	// previous revision's control plane (spec.istio.previous), beside the
	// Mesh's own while an upgrade moves the workloads.
	PreviousControlPlaneFile = "istio-previous.yaml"
	PreviousIstiodValuesFile = "istiod-previous.values.yaml"
	// CNIValuesFile and ZtunnelValuesFile are, in an ambient mesh, the
	// values of Istio's cni and ztunnel charts.
	CNIValuesFile     = "cni.values.yaml"
	ZtunnelValuesFile = "ztunnel.values.yaml"
	// AmbientGatewayFile is, in an ambient mesh's manifests/, the east-west
	// gateway as a Gateway API Gateway; WaypointsFile the waypoints.
	AmbientGatewayFile = "eastwest-gateway.yaml"
	WaypointsFile      = "waypoints.yaml"
)

// Istio's charts as its Helm repository publishes them, and the release
// names the multicluster guides install them under.
const (
	HelmRepoName = "istio"
	HelmRepoURL  = "https://istio-release.storage.googleapis.com/charts"
	// IstioNamespace is where every chart is installed.
	IstioNamespace = "istio-system"

	ChartBase    = "base"
	ChartIstiod  = "istiod"
	ChartGateway = "gateway"
	ChartCNI     = "cni"
	ChartZtunnel = "ztunnel"

	ReleaseBase            = "istio-base"
	ReleaseIstiod          = "istiod"
	ReleaseEastWestGateway = "istio-eastwestgateway"
	ReleaseCNI             = "istio-cni"
	ReleaseZtunnel         = "ztunnel"
)

// ChartSource is where a Helm row's chart comes from, which version of it
// is installed and into which namespace.
type ChartSource struct {
	Repo      HelmRepository
	Version   func(*mesh.Mesh) string
	Namespace func(*mesh.Mesh) string
}

// namespaceOf is the release namespace of s's charts in m; "" for a row
// that is no chart.
func (s *ChartSource) namespaceOf(m *mesh.Mesh) string {
	if s == nil {
		return ""
	}
	return s.Namespace(m)
}

// istioCharts are Istio's charts, at the mesh's Istio version, in
// istio-system.
var istioCharts = &ChartSource{
	Repo:      HelmRepository{Name: HelmRepoName, URL: HelmRepoURL},
	Version:   func(m *mesh.Mesh) string { return m.Spec.Istio.Version },
	Namespace: func(*mesh.Mesh) string { return IstioNamespace },
}

// RemoteSecretFile is the file, in a primary's remote-secrets/, of the
// Secret that gives it read access to cluster source: the name istioctl
// create-remote-secret gives the Secret.
func RemoteSecretFile(source string) string { return "istio-remote-secret-" + source + ".yaml" }

// How the plan applies an artifact.
type Apply int

const (
	// NotApplied: no plan step applies the file (a remote's kustomization
	// whose one resource, the namespace, is applied on its own; the Helm
	// path's whole-cluster kustomization, an alternative to the plan).
	NotApplied Apply = iota
	// WithDirectory: the file is a resource of its directory's
	// kustomization and reaches the cluster when the plan applies that.
	WithDirectory
	// Istioctl: istioctl install -f the file.
	Istioctl
	// Kubectl: kubectl apply -f the file.
	Kubectl
	// Kustomize: kubectl apply -k the file's directory.
	Kustomize
	// Helm: helm upgrade --install the artifact's Release of its Chart
	// (istio/<Chart>, version istio.version) with the file as values.
	Helm
)

// Scope says how many copies of a catalogue entry a mesh gets, where they
// go and what each is rendered from.
type Scope int

const (
	// PerCluster: one in the directory of each cluster For holds for, from
	// the cluster's view.
	PerCluster Scope = iota
	// PerGroup: one in the directory of each VM group
	// (<cluster>/vm/<namespace>/<group>/), from the group's VMView.
	PerGroup
	// PerPair: one per remote-secret pair, in the reading primary's
	// directory, named for the cluster it reads.
	PerPair
	// PerMesh: one, at the top of the output.
	PerMesh
)

// String names the scope as docs/output.md does.
func (s Scope) String() string {
	return [...]string{PerCluster: "cluster", PerGroup: "VM group", PerPair: "primary and cluster it reads", PerMesh: "mesh"}[s]
}

// Artifact is one entry of the catalogue: a file meshc writes.
type Artifact struct {
	// Scope is PerCluster unless set.
	Scope     Scope
	Dir, Name string
	// Template renders the file from the cluster's Placement.
	Template string
	// For reports whether a cluster gets the file.
	For func(*mesh.Placement) bool
	// Phase is the plan phase that applies the file, with Apply; "" when
	// no step of its own applies it (WithDirectory: its kustomization's step
	// does).
	Phase string
	Apply Apply
	// Chart and Release are, for Apply Helm, the chart of Source the file
	// holds values for and the release it installs.
	Chart, Release string
	Source         *ChartSource
	// Wait is, for Apply Helm, helm's --wait: the next phase needs what the
	// release runs to be ready (CRDs, istiod's webhooks), as istioctl
	// install waits for it. Not on gateways: helm would also wait for the
	// load balancer's address, which clusters without a load-balancer
	// controller never assign, and nothing later in the plan needs it.
	Wait bool
	// Previous: the row installs the previous revision's control plane
	// (spec.istio.previous), rendered and applied from Mesh.Previous.
	Previous bool
	// Mode is the file's permission bits; 0 means 0644.
	Mode fs.FileMode
	// When says in words who gets the file, About what it holds: the
	// catalogue's columns in docs/output.md.
	When, About string
}

// ReleaseIn is the Helm release the row installs in mesh m: Release, but
// istiod-<revision> for the istiod chart of a revisioned control plane, so
// the next revision installs beside it (docs/upgrade.md).
func (a *Artifact) ReleaseIn(m *mesh.Mesh) string {
	if a.Release == ReleaseIstiod {
		return istiodRelease(m)
	}
	return a.Release
}

// istiodRelease is the Helm release of m's istiod chart.
func istiodRelease(m *mesh.Mesh) string {
	if m.Revisioned() {
		return ReleaseIstiod + "-" + m.Spec.Istio.Revision
	}
	return ReleaseIstiod
}

// placed is the placement the row renders and applies from: the
// previous revision's for a Previous row.
func (a *Artifact) placed(p *mesh.Placement) *mesh.Placement {
	if !a.Previous {
		return p
	}
	return p.Mesh.Previous().Place(p.Cluster)
}

// own is the row of the Mesh's own revision that a Previous row mirrors.
func (a *Artifact) own() *Artifact {
	for _, o := range Catalogue {
		if !o.Previous && o.Template == a.Template && o.Dir == a.Dir && o.Phase == a.Phase {
			return o
		}
	}
	panic("no row of the Mesh's own revision for " + a.Name)
}

// meshOf is the mesh the row renders from: m, or its previous revision's.
func (a *Artifact) meshOf(m *mesh.Mesh) *mesh.Mesh {
	if a.Previous {
		return m.Previous()
	}
	return m
}

// Path is the artifact's path in the rendered tree for cluster.
func (a *Artifact) Path(cluster string) string { return path.Join(cluster, a.Dir, a.Name) }

// Catalogue is the one table of everything meshc writes, each file with
// its scope: render, the plan, change plans, GitOps, `meshc fn` and the
// conformance suite read it, and docs/output.md's file table is generated
// from it. Per-cluster rows are in apply order within each directory:
// manifests/ rows are the kustomization's resources in this order. A file
// may have several rows (one per role) when the conditions exclude each
// other; TestArtifactsTable checks they do. Adding an output is a row, a
// template and its golden files.
var Catalogue = []*Artifact{
	markerRow, planRow, planScriptRow, diagramRow, gitopsRow,
	// The previous revision, while an upgrade keeps it beside the Mesh's
	// own: its control plane only (tags and gateways follow the Mesh's),
	// installed first, as it was before the upgrade (istioctl gives the
	// first revision it installs the default tag).
	{Dir: InstallDir, Name: PreviousControlPlaneFile, Template: "primary.yaml.tmpl", Previous: true,
		For: allOf((*mesh.Placement).UsesIstioctl, (*mesh.Placement).IsPrimary, (*mesh.Placement).HasPrevious), Phase: PhasePrimaries, Apply: Istioctl,
		When: "primaries with spec.istio.previous (istioctl)", About: "the previous revision's control plane, at its own release, kept while workloads move over"},
	{Dir: InstallDir, Name: PreviousControlPlaneFile, Template: "remote.yaml.tmpl", Previous: true,
		For: allOf((*mesh.Placement).UsesIstioctl, (*mesh.Placement).ReadyRemote, (*mesh.Placement).HasPrevious), Phase: PhaseRemotes, Apply: Istioctl,
		When: "remotes with spec.istio.previous (istioctl)", About: "the remote profile of the previous revision"},
	{Dir: InstallDir, Name: ControlPlaneFile, Template: "primary.yaml.tmpl",
		For: both((*mesh.Placement).UsesIstioctl, (*mesh.Placement).IsPrimary), Phase: PhasePrimaries, Apply: Istioctl,
		When: "primaries (istioctl)", About: "the control plane's IstioOperator: meshID, clusterName, network; externalIstiod where it serves remotes"},
	{Dir: InstallDir, Name: ControlPlaneFile, Template: "remote.yaml.tmpl",
		For: both((*mesh.Placement).UsesIstioctl, (*mesh.Placement).ReadyRemote), Phase: PhaseRemotes, Apply: Istioctl,
		When: "remotes whose primary's istiod address is known (istioctl)", About: "the remote profile's IstioOperator, pointed at its primary's istiod"},
	{Dir: InstallDir, Name: EastWestGatewayFile, Template: "eastwest-gateway.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesIstioctl, (*mesh.Placement).IsPrimary, (*mesh.Placement).HasSidecarGateway), Phase: PhasePrimaryGateways, Apply: Istioctl,
		When: "primaries with an east-west gateway (istioctl)", About: "the east-west gateway's IstioOperator (ports 15021, 15443, 15012, 15017; network label)"},
	{Dir: InstallDir, Name: EastWestGatewayFile, Template: "eastwest-gateway.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesIstioctl, (*mesh.Placement).ReadyRemote, (*mesh.Placement).HasSidecarGateway), Phase: PhaseRemoteGateways, Apply: Istioctl,
		When: "remotes with an east-west gateway whose primary's address is known (istioctl)", About: "the same, for a remote"},
	// The Helm path: the guides' Helm tabs, one values file per chart. base
	// (CRDs and cluster-wide resources) goes in before any istiod.
	{Dir: HelmDir, Name: BaseValuesFile, Template: "base.values.yaml.tmpl",
		For: (*mesh.Placement).UsesHelm, Phase: PhaseBase, Apply: Helm, Chart: ChartBase, Release: ReleaseBase, Source: istioCharts, Wait: true,
		When: "every cluster (helm)", About: "values of Istio's base chart: CRDs and cluster-wide resources"},
	{Dir: HelmDir, Name: PreviousIstiodValuesFile, Template: "istiod-primary.values.yaml.tmpl", Previous: true,
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).IsPrimary, (*mesh.Placement).HasPrevious), Phase: PhasePrimaries, Apply: Helm, Chart: ChartIstiod, Release: ReleaseIstiod, Source: istioCharts, Wait: true,
		When: "primaries with spec.istio.previous (helm)", About: "values of the istiod chart for the previous revision (release istiod-<previous>, chart at its release)"},
	{Dir: HelmDir, Name: PreviousIstiodValuesFile, Template: "istiod-remote.values.yaml.tmpl", Previous: true,
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).ReadyRemote, (*mesh.Placement).HasPrevious), Phase: PhaseRemotes, Apply: Helm, Chart: ChartIstiod, Release: ReleaseIstiod, Source: istioCharts, Wait: true,
		When: "remotes with spec.istio.previous (helm)", About: "the same, with profile: remote"},
	{Dir: HelmDir, Name: IstiodValuesFile, Template: "istiod-primary.values.yaml.tmpl",
		For: both((*mesh.Placement).UsesHelm, (*mesh.Placement).IsPrimary), Phase: PhasePrimaries, Apply: Helm, Chart: ChartIstiod, Release: ReleaseIstiod, Source: istioCharts, Wait: true,
		When: "primaries (helm)", About: "values of the istiod chart"},
	// Ambient: the node agent and ztunnel, after istiod, as the ambient
	// guide installs them (istiod's profile: ambient turns ambient on).
	{Dir: HelmDir, Name: CNIValuesFile, Template: "cni.values.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).IsPrimary, (*mesh.Placement).Ambient), Phase: PhasePrimaries, Apply: Helm, Chart: ChartCNI, Release: ReleaseCNI, Source: istioCharts, Wait: true,
		When: "primaries of an ambient mesh (helm)", About: "values of the cni chart: the node agent that redirects ambient pods' traffic to ztunnel"},
	{Dir: HelmDir, Name: ZtunnelValuesFile, Template: "ztunnel.values.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).IsPrimary, (*mesh.Placement).Ambient), Phase: PhasePrimaries, Apply: Helm, Chart: ChartZtunnel, Release: ReleaseZtunnel, Source: istioCharts, Wait: true,
		When: "primaries of an ambient mesh (helm)", About: "values of the ztunnel chart: the cluster's name and network"},
	{Dir: HelmDir, Name: IstiodValuesFile, Template: "istiod-remote.values.yaml.tmpl",
		For: both((*mesh.Placement).UsesHelm, (*mesh.Placement).ReadyRemote), Phase: PhaseRemotes, Apply: Helm, Chart: ChartIstiod, Release: ReleaseIstiod, Source: istioCharts, Wait: true,
		When: "remotes whose primary's istiod address is known (helm)", About: "values of the istiod chart with profile: remote"},
	{Dir: HelmDir, Name: EastWestGatewayValuesFile, Template: "eastwest-gateway.values.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).IsPrimary, (*mesh.Placement).HasSidecarGateway), Phase: PhasePrimaryGateways,
		Apply: Helm, Chart: ChartGateway, Release: ReleaseEastWestGateway, Source: istioCharts,
		When: "primaries with an east-west gateway (helm)", About: "values of the gateway chart for the east-west gateway"},
	{Dir: HelmDir, Name: EastWestGatewayValuesFile, Template: "eastwest-gateway.values.yaml.tmpl",
		For: allOf((*mesh.Placement).UsesHelm, (*mesh.Placement).ReadyRemote, (*mesh.Placement).HasSidecarGateway), Phase: PhaseRemoteGateways,
		Apply: Helm, Chart: ChartGateway, Release: ReleaseEastWestGateway, Source: istioCharts,
		When: "remotes with an east-west gateway whose primary's address is known (helm)", About: "the same, for a remote"},
	// With spec.ca.issuer cert-manager, what issues cacerts (applied by the
	// cacerts phase) and the root the plan compares it with; with
	// istio-csr, the Issuer and the root istio-csr reads (the issuer
	// phase), then istio-csr itself, before any of Istio.
	{Dir: mesh.CADir, Name: mesh.CAIssuerFile, Template: "cert-manager-ca.yaml.tmpl",
		For: (*mesh.Placement).WritesCACerts, Phase: PhaseCACerts, Apply: Kubectl,
		When: "every cluster (spec.ca.issuer: cert-manager)", About: "the cert-manager Issuer and Certificate that issue the cluster's intermediate CA into cacerts"},
	{Dir: mesh.CADir, Name: mesh.CAIssuerFile, Template: "cert-manager-ca.yaml.tmpl",
		For: (*mesh.Placement).UsesIstioCSR, Phase: PhaseIssuer, Apply: Kubectl,
		When: "every cluster (spec.ca.issuer: istio-csr)", About: "the cert-manager Issuer istio-csr signs workload certificates with, and the ConfigMap of the mesh's root it hands out"},
	{Dir: mesh.CADir, Name: IstioCSRValuesFile, Template: "istio-csr.values.yaml.tmpl",
		For: (*mesh.Placement).UsesIstioCSR, Phase: PhaseIstioCSR, Apply: Helm, Chart: ChartIstioCSR, Release: ReleaseIstioCSR, Source: istioCSRChart, Wait: true,
		When: "every cluster (spec.ca.issuer: istio-csr)", About: "values of cert-manager's istio-csr chart: the Issuer, the root, the trust domain, the cluster's name as its cluster ID, the revisions it serves"},
	{Dir: mesh.CADir, Name: mesh.RootCertFile, Template: "root-cert.pem.tmpl",
		For: (*mesh.Placement).UsesCertManager, Apply: NotApplied,
		When: "every cluster (spec.ca.issuer: cert-manager or istio-csr)", About: "the mesh's root certificate, which the plan's verify-root phase compares with what cert-manager issued"},
	{Dir: mesh.CADir, Name: mesh.PreviousRootCertFile, Template: "previous-root-cert.pem.tmpl",
		For: (*mesh.Placement).MovesRoot, Apply: NotApplied,
		When: "every cluster, while the root moves (spec.ca.previousRoot)", About: "the root the running workloads' certificates chain to, which a change plan from issuer meshc checks the clusters' cacerts holds"},
	// Applied on its own first: cacerts go into istio-system before any
	// istiod starts.
	{Dir: ManifestsDir, Name: NamespaceFile, Template: "namespace.yaml.tmpl",
		For: always, Phase: PhaseNamespaces, Apply: Kubectl,
		When: "every cluster", About: "istio-system with its topology.istio.io/network label or controlPlaneClusters annotation"},
	{Dir: ManifestsDir, Name: "shared-namespaces.yaml", Template: "shared-namespaces.yaml.tmpl",
		For: (*mesh.Placement).HasSharedNamespaces, Apply: WithDirectory,
		When: "clusters that hold a shared namespace", About: "the shared namespaces, with their injection labels"},
	// After istiod: the istio-east-west class is istiod's.
	{Dir: ManifestsDir, Name: AmbientGatewayFile, Template: "ambient-eastwest-gateway.yaml.tmpl",
		For: (*mesh.Placement).HasAmbientGateway, Apply: WithDirectory,
		When: "primaries of an ambient mesh with an east-west gateway", About: "the ambient east-west gateway: a Gateway API Gateway of class istio-east-west, HBONE on 15008, labelled with its network"},
	{Dir: ManifestsDir, Name: "cross-network-gateway.yaml", Template: "cross-network-gateway.yaml.tmpl",
		For: (*mesh.Placement).ServesCrossNetwork, Apply: WithDirectory,
		When: "primaries of a multi-network mesh", About: "the Gateway that passes *.local on 15443 (AUTO_PASSTHROUGH), and a federated mesh's exported hosts"},
	{Dir: ManifestsDir, Name: FederationGatewayFile, Template: "federation-gateway.yaml.tmpl",
		For: (*mesh.Placement).ServesFederationGateway, Apply: WithDirectory,
		When: "primaries of a mesh that exports to peers, where no cross-network Gateway passes the exports", About: "the Gateway that passes the exported hosts to the peers on 15443"},
	{Dir: ManifestsDir, Name: FederationPeersFile, Template: "federation-peers.yaml.tmpl",
		For: (*mesh.Placement).ImportsFromPeers, Apply: WithDirectory,
		When: "primaries of a mesh that imports from peers", About: "each peer's istio-remote Gateway and a ServiceEntry per imported host"},
	{Dir: ManifestsDir, Name: "expose-istiod.yaml", Template: "expose-istiod.yaml.tmpl",
		For: (*mesh.Placement).ExposesIstiod, Apply: WithDirectory,
		When: "primaries serving remotes or VMs through their east-west gateway", About: "istiod exposed through the east-west gateway (15012, 15017)"},
	// After the control plane: a tag's webhook calls its revision's istiod.
	{Dir: ManifestsDir, Name: RevisionTagsFile, Template: "revision-tags.yaml.tmpl",
		For: (*mesh.Placement).HasRevisionTags, Apply: WithDirectory,
		When: "every cluster, with spec.istio.tags", About: "each revision tag's injection webhook and Service, pointing at the revision the tag names"},
	{Dir: ManifestsDir, Name: ServiceStubsFile, Template: "service-stubs.yaml.tmpl",
		For: (*mesh.Placement).HasServiceStubs, Apply: WithDirectory,
		When: "clusters that call a shared service they do not run", About: "a stub Service for each, so its name resolves"},
	{Dir: ManifestsDir, Name: WaypointsFile, Template: "waypoints.yaml.tmpl",
		For: (*mesh.Placement).HasWaypoints, Apply: WithDirectory,
		When: "clusters of an ambient mesh holding a namespace whose services name a waypoint", About: "each waypoint (class istio-waypoint), the same name in every cluster, global when a global service uses it"},
	// After the control plane: WorkloadGroup is an Istio kind.
	{Dir: ManifestsDir, Name: WorkloadGroupsFile, Template: "vm-workload-groups.yaml.tmpl",
		For: (*mesh.Placement).ServesVMs, Apply: WithDirectory,
		When: "primaries VMs register with", About: "each group's WorkloadGroup, WorkloadEntries, service account and, unless shared, namespace"},
	{Dir: ManifestsDir, Name: KustomizationFile, Template: "kustomization.yaml.tmpl",
		For: (*mesh.Placement).IsPrimary, Phase: PhaseExpose, Apply: Kustomize,
		When: "primaries", About: "the manifests/ resources in apply order (kubectl apply -k)"},
	// A remote applies its manifests/ after its install when they hold more
	// than its namespace (applied above); otherwise, or while its install
	// waits for its primary's address, the kustomization is there for
	// kubectl apply -k and kustomize users.
	{Dir: ManifestsDir, Name: KustomizationFile, Template: "kustomization.yaml.tmpl",
		For: both((*mesh.Placement).ReadyRemote, (*mesh.Placement).HasAppManifests), Phase: PhaseRemotes, Apply: Kustomize,
		When: "remotes whose manifests/ hold more than istio-system", About: "the same, for a remote"},
	{Dir: ManifestsDir, Name: KustomizationFile, Template: "kustomization.yaml.tmpl",
		For: both((*mesh.Placement).IsRemote, not(both((*mesh.Placement).ReadyRemote, (*mesh.Placement).HasAppManifests))), Apply: NotApplied,
		When: "other remotes (the plan applies their namespace alone)", About: "the same, for kubectl apply -k and kustomize users"},
	// On the Helm path, the cluster's whole install (its charts through
	// kustomize's helmCharts, then manifests/) for GitOps: an alternative
	// to the plan, which does not apply it.
	{Dir: ".", Name: KustomizationFile, Template: "cluster-kustomization.yaml.tmpl",
		For: (*mesh.Placement).UsesHelm, Apply: NotApplied,
		When: "every cluster (helm)", About: "the cluster's whole install for GitOps: its charts through helmCharts, then manifests/ (the plan does not apply it)"},
	groupEnvRow, groupMeshRow, groupHostsRow, groupInstallRow,
	remoteSecretRow, readerAccessRow,
}

// The rows render writes by code of their own rather than by the loop over
// a cluster's rows.
var (
	markerRow = &Artifact{Scope: PerMesh, Dir: ".", Name: output.MarkerFile,
		When: "every mesh", About: "the ownership marker: meshc wrote this directory, for this mesh; render replaces only such a directory"}
	planRow = &Artifact{Scope: PerMesh, Dir: ".", Name: PlanFile, Template: "plan.md.tmpl",
		When: "every mesh", About: "the mesh as a Mermaid diagram, then the ordered install commands, each with its kube context"}
	planScriptRow = &Artifact{Scope: PerMesh, Dir: ".", Name: PlanScript, Template: "plan.sh.tmpl", Mode: 0o755,
		When: "every mesh", About: "the same commands as a runnable bash script"}
	diagramRow = &Artifact{Scope: PerMesh, Dir: ".", Name: DiagramFile,
		When: "every mesh", About: "the mesh as a picture: networks, clusters, gateways, who serves and reads whom"}
	gitopsRow = &Artifact{Scope: PerMesh, Dir: GitOpsDir,
		When: "spec.gitops", About: "the mesh as Argo CD Applications or Flux objects, in the plan's order, secrets as references"}

	// A VM group's files: the plan gathers them with the root certificate
	// and a token, and the conformance suite compares them with Istio's
	// own generator's.
	groupEnvRow = &Artifact{Scope: PerGroup, Name: "cluster.env", Template: "vm-cluster.env.tmpl",
		When: "every VM group", About: "the sidecar's metadata and traffic capture settings"}
	groupMeshRow = &Artifact{Scope: PerGroup, Name: "mesh.yaml", Template: "vm-mesh.yaml.tmpl",
		When: "every VM group", About: "the sidecar's proxy config: istiod's name, the mesh ID, the proxy metadata and readiness probe"}
	groupHostsRow = &Artifact{Scope: PerGroup, Name: "hosts", Template: "vm-hosts.tmpl",
		When: "every VM group", About: "the line that maps istiod's name to the address it is exposed at"}
	groupInstallRow = &Artifact{Scope: PerGroup, Name: VMInstallScript, Template: "vm-install.sh.tmpl", Mode: 0o755,
		When: "every VM group", About: "run on each VM: installs Istio's sidecar package and the gathered files, points istiod's name at its address, starts the sidecar"}

	// With remoteSecrets: declarative, the remote secrets as files.
	remoteSecretRow = &Artifact{Scope: PerPair, Dir: RemoteSecretsDir, Name: RemoteSecretFile("<source>"), Template: "remote-secret.yaml.tmpl",
		When: "remoteSecrets: declarative, in each primary for each cluster it reads", About: "the remote Secret its istiod reads the cluster with, credentials as placeholders"}
	readerAccessRow = &Artifact{Scope: PerPair, Dir: RemoteAccessDir, Name: ReaderAccessFile, Template: "istio-reader.yaml.tmpl",
		When: "remoteSecrets: declarative, or a named revision (spec.istio.revision), in each cluster a primary reads", About: "the reader service account, its token and RBAC, complete: the union of what every Istio release meshc targets reads"}
)

// GroupFiles are the catalogue's rows of a VM group's directory, in order.
func GroupFiles() []*Artifact { return scope(PerGroup) }

func scope(s Scope) []*Artifact {
	var out []*Artifact
	for _, a := range Catalogue {
		if a.Scope == s {
			out = append(out, a)
		}
	}
	return out
}

// Pattern is the path of the row's files in the output, with placeholders
// for what varies: <cluster>/install/istio.yaml.
func (a *Artifact) Pattern() string {
	switch a.Scope {
	case PerGroup:
		return path.Join("<cluster>", mesh.VMDir, "<namespace>", "<group>", a.Name)
	case PerPair:
		return path.Join("<cluster>", a.Dir, a.Name)
	case PerMesh:
		if a.Name == "" {
			return a.Dir + "/"
		}
		return path.Join(a.Dir, a.Name)
	}
	return path.Join("<cluster>", a.Dir, a.Name)
}

func always(*mesh.Placement) bool { return true }

// appliesGatewayAPI reports whether the cluster's manifests hold Gateway
// API objects: federation-peers.yaml's istio-remote Gateways, an ambient
// mesh's east-west gateway and waypoints.
func appliesGatewayAPI(p *mesh.Placement) bool { return p.AppliesGatewayAPI() }

func both(a, b func(*mesh.Placement) bool) func(*mesh.Placement) bool {
	return func(p *mesh.Placement) bool { return a(p) && b(p) }
}

func allOf(conds ...func(*mesh.Placement) bool) func(*mesh.Placement) bool {
	return func(p *mesh.Placement) bool {
		for _, c := range conds {
			if !c(p) {
				return false
			}
		}
		return true
	}
}

func not(f func(*mesh.Placement) bool) func(*mesh.Placement) bool {
	return func(p *mesh.Placement) bool { return !f(p) }
}

// ArtifactsFor returns the per-cluster rows of the catalogue that apply to a
// cluster, in table order.
func ArtifactsFor(p *mesh.Placement) []*Artifact {
	out := make([]*Artifact, 0, len(Catalogue))
	for _, a := range Catalogue {
		if a.Scope == PerCluster && a.For(p) {
			out = append(out, a)
		}
	}
	return out
}

// Resources lists the manifests/ files the cluster's kustomization applies,
// in apply order: what kustomization.yaml.tmpl writes.
func Resources(p *mesh.Placement) []string { return kustomizationResources(ArtifactsFor(p)) }

// HelmChart is one chart of a cluster's whole-install kustomization, as
// kustomize's helmCharts field spells it.
type HelmChart struct {
	Name, Repo, Version, Release, Namespace, ValuesFile string
}

// WholeInstall is, on the Helm path, what the cluster-level kustomization
// holds: the cluster's charts (its Helm rows, in install order) and the
// directories it includes as resources.
type WholeInstall struct {
	Charts    []HelmChart
	Resources []string
}

// wholeInstall returns the cluster's charts and resources for its
// whole-install kustomization (cluster-kustomization.yaml.tmpl).
func wholeInstall(p *mesh.Placement) WholeInstall {
	w := WholeInstall{Resources: []string{ManifestsDir}}
	for _, a := range ArtifactsFor(p) {
		switch {
		case a.Apply == Helm:
			rm := a.meshOf(p.Mesh)
			w.Charts = append(w.Charts, HelmChart{Name: a.Chart, Repo: a.Source.Repo.URL, Version: a.Source.Version(rm),
				Release: a.ReleaseIn(rm), Namespace: a.Source.Namespace(p.Mesh), ValuesFile: path.Join(a.Dir, a.Name)})
		case a.Dir == mesh.CADir && a.Apply == Kubectl:
			// The Issuer (and cacerts' Certificate, or istio-csr's root),
			// which the plan applies on its own.
			w.Resources = append(w.Resources, path.Join(a.Dir, a.Name))
		}
	}
	return w
}

// kustomizationResources lists the manifests/ files the cluster's
// kustomization applies, in apply order.
func kustomizationResources(arts []*Artifact) []string {
	var names []string
	for _, a := range arts {
		if a.Dir == ManifestsDir && a.Name != KustomizationFile {
			names = append(names, a.Name)
		}
	}
	return names
}
