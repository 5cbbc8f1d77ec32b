package conformance

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"istio.io/api/meta/v1alpha1"
	"istio.io/istio/pilot/pkg/model/status"

	"meshc.dev/meshc/mesh"
)

// Virtual machines in the behavioural check. Each static instance of a
// workload group is the WorkloadEntry meshc renders into its cluster's
// manifests/, read as that cluster's Istio config; the harness adds the
// Service that makes the group's application callable (the user's, as
// docs/vm.md says): the group's name, namespace, ports and labels as its
// selector. What proxies must be sent comes from the Mesh alone: a sidecar
// on the VM's network, or in a one-network mesh, reaches each VM at its
// address; a sidecar on another network through the east-west gateways of
// the VM's network (its own cluster's, if it has one there), which send
// what comes in to the VMs directly; with no gateway on the VM's network,
// istiod hands out the VMs' addresses as if the networks were one.

// reportVMHealth does, for each WorkloadEntry istiod health-checks
// (annotated proxy.istio.io/health-checks-enabled) of a group whose Mesh
// gives it a probe, what istiod does once that VM's sidecar, naming the
// entry, reports the probe passing: it marks the entry Healthy. istiod sends
// no traffic to a health-checked entry before that. An annotated entry of a
// group without a probe stays as rendered, so no one would report it.
func (s *Scenario) reportVMHealth(m *mesh.Mesh) {
	probed := map[string]bool{} // namespace/instance of groups with a probe
	for _, g := range m.Spec.WorkloadGroups {
		for _, in := range g.Instances {
			probed[g.Namespace+"/"+in.Name] = g.Probe != nil
		}
	}
	for _, cs := range s.Clusters {
		for _, o := range cs.Objects {
			c := o.Config
			if c == nil || c.GroupVersionKind.Kind != "WorkloadEntry" || c.Annotations[status.WorkloadEntryHealthCheckAnnotation] == "" ||
				!probed[c.Namespace+"/"+c.Name] {
				continue
			}
			c.Status = &v1alpha1.IstioStatus{Conditions: []*v1alpha1.IstioCondition{{Type: status.ConditionHealthy, Status: status.StatusTrue}}}
		}
	}
}

// vmHost is the group's service host.
func vmHost(g *mesh.WorkloadGroup) string {
	return g.Name + "." + g.Namespace + ".svc.cluster.local"
}

// deployVMServices adds to each group's cluster the Service selecting its
// VMs, unless the cluster already holds one of that name.
func (s *Scenario) deployVMServices(m *mesh.Mesh) {
	for i := range m.Spec.WorkloadGroups {
		g := &m.Spec.WorkloadGroups[i]
		cs := s.cluster(g.Cluster)
		if len(g.Instances) == 0 || len(g.Labels) == 0 || cs == nil || cs.holdsService(g.Namespace, g.Name) {
			continue
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: g.Name, Namespace: g.Namespace},
			Spec: corev1.ServiceSpec{
				ClusterIP: fmt.Sprintf("10.97.%d.%d", i/250, 10+i%250),
				Selector:  g.Labels,
			},
		}
		for _, p := range g.Ports {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
				Name: p.Name, Port: int32(p.Port), TargetPort: intstr.FromInt32(int32(p.Port)), Protocol: corev1.ProtocolTCP,
			})
		}
		cs.Objects = append(cs.Objects, Object{Object: svc})
	}
}

// expectVMs adds what every proxy must be sent for each group's service:
// sidecars by network, east-west gateways of the VMs' network the VMs
// themselves.
func (s *Scenario) expectVMs(m *mesh.Mesh) {
	clusters := m.Spec.Clusters
	const L = 720720
	for i := range m.Spec.WorkloadGroups {
		g := &m.Spec.WorkloadGroups[i]
		if len(g.Instances) == 0 || len(g.Labels) == 0 {
			continue
		}
		// The gateways standing for the VMs on other networks.
		var gws []int
		for y := range clusters {
			if clusters[y].Network == g.Network && clusters[y].EastWestGateway != nil && clusters[y].Name == g.Cluster {
				gws = []int{y}
			}
		}
		if gws == nil {
			for y := range clusters {
				if clusters[y].Network == g.Network && clusters[y].EastWestGateway != nil {
					gws = append(gws, y)
				}
			}
		}
		for _, port := range g.Ports {
			direct := func(weight uint32) []Endpoint {
				var eps []Endpoint
				for _, in := range g.Instances {
					eps = append(eps, Endpoint{Address: net.JoinHostPort(in.Address, strconv.Itoa(port.Port)), Cluster: g.Cluster, Weight: weight})
				}
				return eps
			}
			for _, p := range s.Proxies {
				if p.Want == nil {
					p.Want = map[string][]Endpoint{}
				}
				here := proxyNetwork(m, p)
				if p.Gateway {
					if m.MultiNetwork() && here == g.Network {
						p.Want[fmt.Sprintf("outbound_.%d_._.%s", port.Port, vmHost(g))] = direct(1)
					}
					continue
				}
				ec := fmt.Sprintf("outbound|%d||%s", port.Port, vmHost(g))
				if !m.MultiNetwork() || here == g.Network || len(gws) == 0 {
					p.Want[ec] = direct(L)
					continue
				}
				var eps []Endpoint
				for _, y := range gws {
					eps = append(eps, Endpoint{
						Address: net.JoinHostPort(gatewayAddress(&clusters[y], y), "15443"),
						Cluster: clusters[y].Name, Weight: uint32(len(g.Instances)) * L / uint32(len(gws)),
					})
				}
				p.Want[ec] = eps
			}
		}
	}
}

// vmProxies are the sidecars of m's VMs, each started as its group's
// rendered cluster.env (and mesh.yaml's proxyMetadata) says (cluster ID,
// network, labels, namespace), and
// served by the istiod of the group's cluster: one per instance with a
// known address, and one for a group whose VMs register themselves, at an
// address the harness gives it.
func vmProxies(m *mesh.Mesh, dir string) ([]*Proxy, []finding) {
	var proxies []*Proxy
	var found []finding
	for i := range m.Spec.WorkloadGroups {
		g := &m.Spec.WorkloadGroups[i]
		rel := path.Join(g.Dir(), "cluster.env")
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			found = append(found, finding{file: rel, why: err.Error()})
			continue
		}
		env := clusterEnv(data)
		// The agent also takes mesh.yaml's proxyMetadata as its environment,
		// under cluster.env's.
		meshRel := path.Join(g.Dir(), "mesh.yaml")
		if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(meshRel))); err == nil {
			var mc struct {
				DefaultConfig struct {
					ProxyMetadata map[string]string `json:"proxyMetadata"`
				} `json:"defaultConfig"`
			}
			if err := yaml.Unmarshal(data, &mc); err != nil {
				found = append(found, finding{file: meshRel, why: err.Error()})
			}
			for k, v := range mc.DefaultConfig.ProxyMetadata {
				if _, ok := env[k]; !ok {
					env[k] = v
				}
			}
		}
		var labels map[string]string
		if err := json.Unmarshal([]byte(env["ISTIO_METAJSON_LABELS"]), &labels); err != nil {
			found = append(found, finding{file: rel, why: fmt.Sprintf("ISTIO_METAJSON_LABELS: %v", err)})
		}
		vm := func(name, ip string) *Proxy {
			return &Proxy{
				Cluster: g.Cluster, Istiod: g.Cluster, VM: name, VMGroup: g.Namespace + "/" + g.Name,
				Namespace: env["POD_NAMESPACE"], IP: ip, Labels: labels,
				ClusterID: env["ISTIO_META_CLUSTER_ID"], Network: env["ISTIO_META_NETWORK"],
				MetadataFile: rel, ProxyMetadata: env,
			}
		}
		if g.AutoRegister() {
			proxies = append(proxies, vm(g.Name, fmt.Sprintf("10.255.%d.%d", i/250, 10+i%250)))
		}
		for _, in := range g.Instances {
			proxies = append(proxies, vm(in.Name, in.Address))
		}
	}
	return proxies, found
}

// clusterEnv reads cluster.env's KEY='value' lines, as the VM's shell does.
func clusterEnv(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.ReplaceAll(v[1:len(v)-1], `'\''`, `'`)
		}
		out[k] = v
	}
	return out
}
