package mesh

// Facts of a mesh with dataPlane: ambient (the ambient multicluster guide,
// multi-primary on several networks).

// Labels and values of ambient multicluster, as Istio reads them.
const (
	// GlobalLabel marks a Service (or waypoint) global: every cluster's
	// istiod merges it across clusters (meshConfig.serviceScopeConfigs of
	// the ambient profile). Without it a Service is local to its cluster.
	GlobalLabel = "istio.io/global"
	// UseWaypointLabel names the waypoint a Service's traffic goes through.
	UseWaypointLabel = "istio.io/use-waypoint"
	// DataPlaneModeLabel puts a namespace's pods in the ambient data plane.
	DataPlaneModeLabel = "istio.io/dataplane-mode"
)

// Ambient reports whether the cluster's mesh runs the ambient data plane.
func (p *Placement) Ambient() bool { return p.Mesh.Ambient() }

// Sidecar reports whether the cluster's mesh runs sidecars.
func (p *Placement) Sidecar() bool { return !p.Mesh.Ambient() }

// AmbientMultiNetwork reports whether istiod runs with
// AMBIENT_ENABLE_MULTI_NETWORK: an ambient mesh on several networks. It is
// never set in a sidecar mesh, where it drops the sidecars' remote
// endpoints (istio/istio#61713).
func (m *Mesh) AmbientMultiNetwork() bool { return m.Ambient() && m.MultiNetwork() }

// HasAmbientGateway reports whether the cluster runs the ambient east-west
// gateway: a Gateway API Gateway of class istio-east-west that carries HBONE
// on 15008 (gen-eastwest-gateway.sh --ambient).
func (p *Placement) HasAmbientGateway() bool {
	return p.Ambient() && p.IsPrimary() && p.HasEastWestGateway()
}

// HasSidecarGateway reports whether the cluster runs the sidecar mesh's
// east-west gateway (Istio's gateway, 15443 AUTO_PASSTHROUGH).
func (p *Placement) HasSidecarGateway() bool { return p.Sidecar() && p.HasEastWestGateway() }

// NamespaceLabel is the label that puts a shared namespace's pods in the
// mesh: istio.io/dataplane-mode ambient (none when istioInjection is
// disabled) in an ambient mesh, the injection label otherwise.
func (m *Mesh) NamespaceLabel(n *SharedNamespace) [2]string {
	if !m.Ambient() {
		return [2]string{n.InjectionKey(), n.InjectionValue()}
	}
	if n.IstioInjection == "disabled" {
		return [2]string{DataPlaneModeLabel, "none"}
	}
	return [2]string{DataPlaneModeLabel, "ambient"}
}

// IsGlobal reports whether the service is global in an ambient mesh: every
// shared service but the cluster-local ones, whose Services stay local, as
// Istio scopes every Service without the label.
func (m *Mesh) IsGlobal(s *SharedService) bool { return m.Ambient() && !s.ClusterLocal }

// LabelledService is a service the plan labels in a cluster that runs it:
// global, or through its waypoint, or both. The Service is the user's, so
// the plan labels it where it exists.
type LabelledService struct {
	Service *SharedService
	Cluster *Cluster
	// Labels are "key=value", the global label first.
	Labels []string
}

// LabelledServices lists, cluster by cluster in input order, the services
// each runs that an ambient mesh labels (global ones, and any that names a
// waypoint, cluster-local ones too: without istio.io/use-waypoint the
// waypoint meshc renders carries none of their traffic), in input order,
// each once.
func (m *Mesh) LabelledServices() []LabelledService {
	if !m.Ambient() {
		return nil
	}
	var out []LabelledService
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		seen := map[string]bool{}
		for j := range m.Spec.Services {
			s := &m.Spec.Services[j]
			key := s.Namespace + "/" + s.Name
			if seen[key] || !m.RunsIn(s, c.Name) {
				continue
			}
			if labels := m.ServiceLabels(s); len(labels) > 0 {
				seen[key] = true
				out = append(out, LabelledService{Service: s, Cluster: c, Labels: labels})
			}
		}
	}
	return out
}

// ServiceLabels are the labels an ambient mesh puts on a shared service's
// Service, as "key=value", the global label first: where it runs (the
// plan's global-services phase) and on its stubs (their manifest).
func (m *Mesh) ServiceLabels(s *SharedService) []string {
	var labels []string
	if m.IsGlobal(s) {
		labels = append(labels, GlobalLabel+"=true")
	}
	if m.Ambient() && s.Waypoint != "" {
		labels = append(labels, UseWaypointLabel+"="+s.Waypoint)
	}
	return labels
}

// ServiceLabelsIn maps each Service of a cluster that the mesh labels, by
// namespace/name, to its labels: the services it runs and its stubs.
func (m *Mesh) ServiceLabelsIn(cluster string) map[string][]string {
	out := map[string][]string{}
	for _, ls := range m.LabelledServices() {
		if ls.Cluster.Name == cluster {
			out[ls.Service.Namespace+"/"+ls.Service.Name] = ls.Labels
		}
	}
	for _, s := range m.ServiceStubs(cluster) {
		if labels := m.ServiceLabels(s); len(labels) > 0 {
			out[s.Namespace+"/"+s.Name] = labels
		}
	}
	return out
}

// Waypoint is a waypoint proxy of a shared namespace: Istio's waypoint
// Gateway (class istio-waypoint), the same in every cluster of the
// namespace, global when a global service uses it.
type Waypoint struct {
	Name, Namespace string
	Global          bool
}

// Waypoints are the waypoints of the shared namespaces the cluster holds,
// in the order services first name them.
func (p *Placement) Waypoints() []Waypoint {
	if !p.Ambient() {
		return nil
	}
	var out []Waypoint
	index := map[string]int{}
	for i := range p.Mesh.Spec.Services {
		s := &p.Mesh.Spec.Services[i]
		ns := p.Mesh.SharedNamespace(s.Namespace)
		if s.Waypoint == "" || ns == nil || !p.Mesh.NamespaceHas(ns, p.Cluster.Name) {
			continue
		}
		key := s.Namespace + "/" + s.Waypoint
		k, seen := index[key]
		if !seen {
			index[key] = len(out)
			out = append(out, Waypoint{Name: s.Waypoint, Namespace: s.Namespace})
			k = len(out) - 1
		}
		if p.Mesh.IsGlobal(s) {
			out[k].Global = true
		}
	}
	return out
}

// HasWaypoints reports whether the cluster gets waypoints.yaml.
func (p *Placement) HasWaypoints() bool { return len(p.Waypoints()) > 0 }

// AppliesGatewayAPI reports whether the cluster's manifests hold Gateway
// API objects, which need the Gateway API CRDs: a peer's istio-remote
// Gateway, the ambient east-west gateway, waypoints.
func (p *Placement) AppliesGatewayAPI() bool {
	return p.ImportsFromPeers() || p.HasAmbientGateway() || p.HasWaypoints()
}
