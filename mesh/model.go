package mesh

import (
	"cuelang.org/go/cue"
	"cuelang.org/go/cue/token"
)

// Topology values, as spelled in the input.
const (
	MultiPrimary  = "multi-primary"
	PrimaryRemote = "primary-remote"
)

// Role values, as spelled in the input.
const (
	RolePrimary = "primary"
	RoleRemote  = "remote"
)

// Mesh is a loaded Mesh document with schema defaults applied. It remembers
// where each value came from so later steps can point at the input.
type Mesh struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// File is the input's name as given to Load; positions use it.
	File     string `json:"-"`
	data     cue.Value
	topology *topology
	// validator is, in the Mesh Previous returns, the revision of the Mesh
	// it was taken from (ValidatorRevision).
	validator string
}

// Metadata is the Kubernetes-style object metadata of a Mesh document.
type Metadata struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec describes the mesh; see schema/mesh.cue for each field's meaning.
type Spec struct {
	MeshID   string `json:"meshID"`
	Topology string `json:"topology"`
	Istio    Istio  `json:"istio"`
	// DataPlane is DataPlaneSidecar or DataPlaneAmbient.
	DataPlane   string    `json:"dataPlane"`
	TrustDomain string    `json:"trustDomain"`
	Networks    []Network `json:"networks"`
	Clusters    []Cluster `json:"clusters"`
	// RemoteSecrets is RemoteSecretsIstioctl or RemoteSecretsDeclarative.
	RemoteSecrets string            `json:"remoteSecrets"`
	Namespaces    []SharedNamespace `json:"namespaces,omitempty"`
	Services      []SharedService   `json:"services,omitempty"`
	// ServiceResolution is ResolveByStubService or ResolveByDNSProxy.
	ServiceResolution string `json:"serviceResolution"`
	// Installer is InstallerIstioctl or InstallerHelm.
	Installer string `json:"installer"`
	// Peers are the meshes this one federates with (federation.go).
	Peers []Peer `json:"peers,omitempty"`
	// GitOps is nil unless the Mesh asks for a GitOps tree.
	GitOps *GitOps `json:"gitops,omitempty"`
	// WorkloadGroups are the virtual machines that join the mesh (vm.go).
	WorkloadGroups []WorkloadGroup `json:"workloadGroups,omitempty"`
	// CA says where each cluster's intermediate CA comes from (ca.go).
	CA CA `json:"ca"`
}

// GitOps is spec.gitops: the engine and the Git repository the rendered
// output is committed to.
type GitOps struct {
	// Engine is EngineArgoCD or EngineFlux.
	Engine  string `json:"engine"`
	RepoURL string `json:"repoURL"`
	// Path is the output's directory in the repository; "." for its root.
	Path     string `json:"path"`
	Revision string `json:"revision"`
	// Destination is DestinationName or DestinationAPIServer.
	Destination string `json:"destination"`
	// Secrets is SecretsExternal or SecretsOutOfBand.
	Secrets     string `json:"secrets"`
	SecretStore string `json:"secretStore"`
}

// GitOps values, as spelled in the input.
const (
	EngineArgoCD         = "argocd"
	EngineFlux           = "flux"
	DestinationName      = "name"
	DestinationAPIServer = "apiServer"
	SecretsExternal      = "external-secrets"
	SecretsOutOfBand     = "out-of-band"
)

// DataPlane values, as spelled in the input.
const (
	DataPlaneSidecar = "sidecar"
	DataPlaneAmbient = "ambient"
)

// Ambient reports whether the mesh runs Istio's ambient data plane (ztunnel
// and the CNI node agent) instead of sidecars.
func (m *Mesh) Ambient() bool { return m.Spec.DataPlane == DataPlaneAmbient }

// ServiceResolution values, as spelled in the input.
const (
	ResolveByStubService = "stub-service"
	ResolveByDNSProxy    = "dns-proxy"
)

// SharedNamespace is a namespace that means the same in every cluster it
// exists in.
type SharedNamespace struct {
	Name           string `json:"name"`
	IstioInjection string `json:"istioInjection,omitempty"`
	Tag            string `json:"tag,omitempty"`
	Revision       string `json:"revision,omitempty"`
	// Clusters is where the namespace exists; nil means every cluster.
	Clusters []string `json:"clusters,omitempty"`
}

// SharedService is a Service of a shared namespace: one service across the
// clusters that run it.
type SharedService struct {
	Name      string        `json:"name"`
	Namespace string        `json:"namespace"`
	Ports     []ServicePort `json:"ports"`
	// Clusters run the service; nil means every cluster of its namespace.
	Clusters     []string `json:"clusters,omitempty"`
	ClusterLocal bool     `json:"clusterLocal"`
	// Waypoint is the waypoint proxy the service uses in an ambient mesh;
	// "" for none.
	Waypoint string `json:"waypoint,omitempty"`
	// Consumers call the service; nil means every cluster of its namespace
	// (of the service, when it is cluster-local).
	Consumers []string `json:"consumers,omitempty"`
}

// ServicePort is one port of a shared service.
type ServicePort struct {
	Name     string `json:"name"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}

// Installer values, as spelled in the input.
const (
	InstallerIstioctl = "istioctl"
	InstallerHelm     = "helm"
)

// UsesHelm reports whether the plan installs Istio with its Helm charts
// rather than with istioctl and IstioOperator files.
func (m *Mesh) UsesHelm() bool { return m.Spec.Installer == InstallerHelm }

// RemoteSecrets values, as spelled in the input.
const (
	RemoteSecretsIstioctl    = "istioctl"
	RemoteSecretsDeclarative = "declarative"
)

// Declarative reports whether render writes the remote secrets and reader
// access as manifests instead of leaving them to istioctl.
func (m *Mesh) Declarative() bool { return m.Spec.RemoteSecrets == RemoteSecretsDeclarative }

// Istio pins the Istio release the output is written for, and the
// revision it is installed as (revision.go).
type Istio struct {
	Version  string            `json:"version"`
	Revision string            `json:"revision,omitempty"`
	Previous *PreviousRevision `json:"previous,omitempty"`
	Tags     []RevisionTag     `json:"tags,omitempty"`
}

// PreviousRevision is the revision an upgrade replaces, still installed.
type PreviousRevision struct {
	Version  string `json:"version"`
	Revision string `json:"revision"`
}

// RevisionTag is a name namespaces select a control plane by, pointing at
// a revision.
type RevisionTag struct {
	Name     string `json:"name"`
	Revision string `json:"revision"`
}

// Network is a set of clusters whose pods reach each other directly.
type Network struct {
	Name string `json:"name"`
}

// Cluster is one Kubernetes cluster of the mesh.
type Cluster struct {
	Name            string          `json:"name"`
	Context         string          `json:"context"`
	Network         string          `json:"network"`
	Role            string          `json:"role"`
	ControlPlane    string          `json:"controlPlane,omitempty"`
	EastWestGateway *Gateway        `json:"eastWestGateway,omitempty"`
	Istiod          *IstiodExposure `json:"istiod,omitempty"`
	// APIServer is the https:// URL other clusters' istiod reach this
	// cluster's Kubernetes API server at; "" when not given.
	APIServer string `json:"apiServer,omitempty"`
}

// Gateway configures a cluster's east-west gateway.
type Gateway struct {
	Address string `json:"address,omitempty"`
	// LearnAddress: the address is assigned at install and read by the
	// plan's last phase.
	LearnAddress bool `json:"learnAddress,omitempty"`
}

// IstiodExposure is an address remotes reach a primary's istiod at without
// going through its east-west gateway.
type IstiodExposure struct {
	Address string `json:"address"`
}

// IsPrimary reports whether the cluster runs its own istiod.
func (c *Cluster) IsPrimary() bool { return c.Role == RolePrimary }

// Pos returns the input position of the value at path (CUE syntax, as
// "spec.clusters[1].role"). It walks up to the nearest value that exists in
// the input, so a missing field points at the object that lacks it.
func (m *Mesh) Pos(path string) token.Position {
	return positionOf(m.data, path)
}
