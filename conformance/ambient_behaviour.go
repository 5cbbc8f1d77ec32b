package conformance

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/serviceregistry/ambient"
	"istio.io/istio/pilot/pkg/serviceregistry/util/xdsfake"
	"istio.io/istio/pkg/activenotifier"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/config/schema/gvr"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/kclient/clienttest"
	"istio.io/istio/pkg/kube/krt"
	"istio.io/istio/pkg/kube/multicluster"
	"istio.io/istio/pkg/test"
	"istio.io/istio/pkg/workloadapi"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// What a ztunnel is sent. In an ambient mesh no Envoy asks istiod for
// clusters: every node's ztunnel subscribes to WDS, and istiod's workload
// generator (pilot/pkg/xds/workload.go) answers a wildcard subscription with
// everything its ambient index holds (AddressInformation(nil), All()). So
// this check builds, per primary, the ambient index istiod builds, from the
// rendered istiod's flags and mesh config and what the clusters hold once the
// plan has run, and compares what it holds for each service with what the
// Mesh promises: the pods of the ztunnel's own network directly, each with
// its pod IP; a global service's pods on another network as one workload
// behind that network's east-west gateway (its address, HBONE on 15008,
// capacity the pods it stands for), never their pod IPs; a service that is
// not global, only its own cluster's pods.

// ambientSyncTimeout bounds how long the check waits for the ambient index
// (krt collections, remote clusters' informers) to hold what it is expected
// to; a correct mesh converges in well under a second.
const ambientSyncTimeout = 5 * time.Second

// ambientFlags serializes the ambient checks: istiod's feature flags are
// process-wide variables, and each istiod of a mesh runs with its own.
var ambientFlags sync.Mutex

// checkZtunnels checks what every ambient primary's istiod sends its
// ztunnels, for the world s (behaviourWorld) of the Mesh m rendered into
// dir.
func (s *Scenario) checkZtunnels(m *mesh.Mesh, dir string) error {
	var f findings
	labels, err := planServiceLabels(m, dir)
	if err != nil {
		f.add(render.PlanScript, err.Error(), "")
	}
	for i := range m.Spec.Clusters {
		c := &m.Spec.Clusters[i]
		cs := s.cluster(c.Name)
		if !c.IsPrimary() || cs == nil || cs.Istiod == nil {
			continue
		}
		for _, x := range s.checkZtunnel(m, cs, labels) {
			f.add(x.file, x.why, x.example)
		}
	}
	return f.err()
}

// serviceLabels are labels the plan sets on Services: by cluster name, then
// namespace/name.
type serviceLabels map[string]map[string]map[string]string

// planLabelStep matches a step of plan.sh that labels a Service (the
// global-services phase): context, namespace, name and the labels.
var planLabelStep = regexp.MustCompile(`kubectl --context=(\S+) -n (\S+) label --overwrite service (\S+) ([^;]+);`)

// planServiceLabels reads the labels plan.sh puts on Services where they
// exist, by the cluster whose context the step names.
func planServiceLabels(m *mesh.Mesh, dir string) (serviceLabels, error) {
	data, err := os.ReadFile(filepath.Join(dir, render.PlanScript))
	if err != nil {
		return nil, err
	}
	unquote := func(s string) string { return strings.Trim(s, "'") }
	out := serviceLabels{}
	for _, g := range planLabelStep.FindAllStringSubmatch(string(data), -1) {
		i := slices.IndexFunc(m.Spec.Clusters, func(c mesh.Cluster) bool { return cmp.Or(c.Context, c.Name) == unquote(g[1]) })
		if i < 0 {
			continue
		}
		name := m.Spec.Clusters[i].Name
		key := unquote(g[2]) + "/" + unquote(g[3])
		if out[name] == nil {
			out[name] = map[string]map[string]string{}
		}
		if out[name][key] == nil {
			out[name][key] = map[string]string{}
		}
		for _, kv := range strings.Fields(g[4]) {
			if k, v, ok := strings.Cut(unquote(kv), "="); ok {
				out[name][key][k] = v
			}
		}
	}
	return out, nil
}

// checkZtunnel builds the ambient index of the istiod of cs and compares
// what it holds with what the Mesh promises its ztunnels.
func (s *Scenario) checkZtunnel(m *mesh.Mesh, cs *ClusterState, labels serviceLabels) []finding {
	d := cs.Istiod
	if d.Env["PILOT_ENABLE_AMBIENT"] != "true" {
		return []finding{{d.ClusterIDFile, fmt.Sprintf("istiod of %s does not run ambient (PILOT_ENABLE_AMBIENT is %q): it builds no ambient index, and its ztunnels are sent nothing", cs.Name, d.Env["PILOT_ENABLE_AMBIENT"]), ""}}
	}
	want := wantZtunnel(m, cs.Name)
	var got map[string][]string
	var gateways map[string]bool
	var out []finding
	err := test.Wrap(func(t test.Failer) {
		ambientFlags.Lock()
		defer ambientFlags.Unlock()
		test.SetForTest(t, &features.EnableAmbientMultiNetwork, d.Env["AMBIENT_ENABLE_MULTI_NETWORK"] == "true")
		idx := s.ambientIndex(t, m, cs, labels)
		deadline := time.Now().Add(ambientSyncTimeout)
		for {
			got, gateways = ztunnelView(idx.All(), want)
			if sameView(got, want) || time.Now().After(deadline) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	if err != nil {
		return []finding{{cs.Name, fmt.Sprintf("the ambient index of istiod of %s does not start: %v", cs.Name, err), ""}}
	}
	for _, key := range sortedKeysOf(want) {
		if slices.Equal(got[key], want[key]) {
			continue
		}
		out = append(out, finding{
			blameZtunnel(m, cs, gateways, got[key], want[key]),
			fmt.Sprintf("istiod of %s sends its ztunnels %s for %s, want %s", cs.Name, describeView(got[key]), key, describeView(want[key])),
			"",
		})
	}
	return out
}

// blameZtunnel names the file at fault when a ztunnel of cs is sent got
// instead of want for a service, given the networks whose east-west gateway
// istiod knows: istiod's install when it does not cross networks (the
// multi-network flag) or its own pods differ; the east-west gateway of a
// network whose workloads are missing and whose gateway istiod does not
// know; else what decides which services are global, the labels the plan
// and the stub Services set, or the mesh config's scopes if they do not
// make labelled Services global.
func blameZtunnel(m *mesh.Mesh, cs *ClusterState, gateways map[string]bool, got, want []string) string {
	d := cs.Istiod
	if d.Env["AMBIENT_ENABLE_MULTI_NETWORK"] != "true" {
		return d.ClusterIDFile
	}
	for _, w := range want {
		if slices.Contains(got, w) {
			continue
		}
		if strings.HasPrefix(w, "direct ") {
			return d.ClusterIDFile
		}
		for i, c := range m.Spec.Clusters {
			if strings.Contains(w, " on network "+c.Network+" ") && c.EastWestGateway != nil && !gateways[c.Network] {
				return path.Join(m.Spec.Clusters[i].Name, render.ManifestsDir, render.AmbientGatewayFile)
			}
		}
	}
	if !globalByLabel(d.MeshConfig) {
		return d.ClusterIDFile
	}
	return render.PlanScript
}

// ambientIndex starts the ambient index the istiod of cs builds: its
// multicluster controller reads the remote secrets' clusters, each fake API
// server holding what its cluster holds once the plan has run (labels the
// plan sets included), with the east-west gateways' load balancer addresses
// in their Gateways' status, as the gateway controller writes them.
func (s *Scenario) ambientIndex(t test.Failer, m *mesh.Mesh, cs *ClusterState, labels serviceLabels) ambient.Index {
	stop := test.NewStop(t)
	sources := map[cluster.ID]*ClusterState{}
	var secrets []runtime.Object
	for _, r := range cs.Istiod.Reads {
		if src := s.cluster(r.Source); src != nil {
			sources[cluster.ID(r.ClusterID)] = src
			// The remote secret as istiod's secret controller reads it; the
			// client builder below stands in for its kubeconfig.
			sec := &corev1.Secret{}
			sec.Name, sec.Namespace = "istio-remote-secret-"+r.ClusterID, systemNamespace
			sec.Labels = map[string]string{multiClusterLabel: "true"}
			sec.Data = map[string][]byte{r.ClusterID: []byte("kubeconfig of " + r.Source)}
			secrets = append(secrets, sec)
		}
	}
	client := s.ambientClient(t, m, cs, labels, secrets...)
	watcher := meshwatcher.NewTestWatcher(cs.Istiod.MeshConfig)
	mcc := multicluster.NewController(multicluster.ControllerOptions{
		Client:          client,
		ClusterID:       cluster.ID(cs.Istiod.ClusterID),
		SystemNamespace: systemNamespace,
		MeshConfig:      watcher,
		Debugger:        krt.GlobalDebugHandler,
		ClientBuilder: func(_ []byte, id cluster.ID, _ ...func(*rest.Config)) (kubelib.Client, error) {
			src := sources[id]
			if src == nil {
				return nil, fmt.Errorf("no cluster %s", id)
			}
			return s.ambientClient(t, m, src, labels), nil
		},
	})
	if err := mcc.Run(stop); err != nil {
		t.Fatal(err)
	}
	idx := ambient.New(ambient.Options{
		SystemNamespace:        systemNamespace,
		DomainSuffix:           "cluster.local",
		ClusterID:              cluster.ID(cs.Istiod.ClusterID),
		XDSUpdater:             xdsfake.NewFakeXDS(),
		StatusNotifier:         activenotifier.New(false),
		MeshConfig:             watcher,
		Debugger:               krt.GlobalDebugHandler,
		MultiClusterController: mcc,
		Flags: ambient.FeatureFlags{
			DefaultAllowFromWaypoint:              features.DefaultAllowFromWaypoint,
			EnableK8SServiceSelectWorkloadEntries: features.EnableK8SServiceSelectWorkloadEntries,
		},
	})
	client.RunAndWait(stop)
	go idx.Run(stop)
	return idx
}

// ambientClient is a fake API server holding what cs holds: its Kubernetes
// objects, the labels the plan sets on its Services, and its ambient
// east-west gateway's load balancer address.
func (s *Scenario) ambientClient(t test.Failer, m *mesh.Mesh, cs *ClusterState, labels serviceLabels, extra ...runtime.Object) kubelib.Client {
	i := slices.IndexFunc(m.Spec.Clusters, func(c mesh.Cluster) bool { return c.Name == cs.Name })
	objs, _ := split(cs.Objects)
	var out []runtime.Object
	for _, o := range objs {
		switch x := o.(type) {
		case *corev1.Service:
			if l := labels[cs.Name][x.Namespace+"/"+x.Name]; len(l) > 0 {
				x = x.DeepCopy()
				if x.Labels == nil {
					x.Labels = map[string]string{}
				}
				for k, v := range l {
					x.Labels[k] = v
				}
			}
			o = x
		case *gatewayv1.Gateway:
			if x.Spec.GatewayClassName == ambientGatewayCls && i >= 0 {
				x = x.DeepCopy()
				typ := gatewayv1.IPAddressType
				addr := loadBalancerAddress(&m.Spec.Clusters[i], i)
				if _, err := netip.ParseAddr(addr); err != nil {
					typ = gatewayv1.HostnameAddressType
				}
				x.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: &typ, Value: addr}}
				o = x
			}
		}
		out = append(out, o)
	}
	client := kubelib.NewFakeClient(append(out, extra...)...)
	if cs.ServesGatewayAPI {
		clienttest.MakeCRD(t, client, gvr.KubernetesGateway)
		clienttest.MakeCRD(t, client, gvr.GatewayClass)
	}
	for _, crd := range []schema.GroupVersionResource{gvr.AuthorizationPolicy, gvr.PeerAuthentication, gvr.WorkloadEntry, gvr.ServiceEntry} {
		clienttest.MakeCRD(t, client, crd)
	}
	return client
}

// wantZtunnel is what the Mesh promises a ztunnel of cluster here, by
// service (namespace/host): the pods of its own network directly, a global
// service's pods of another network through that network's east-west
// gateway, nothing of a service that is not global from another cluster.
func wantZtunnel(m *mesh.Mesh, here string) map[string][]string {
	clusters := m.Spec.Clusters
	hi := slices.IndexFunc(clusters, func(c mesh.Cluster) bool { return c.Name == here })
	want := map[string][]string{}
	add := func(ns, name string, global bool, runs []int, podIPs func(x int) []string) {
		key := ns + "/" + name + "." + ns + ".svc.cluster.local"
		want[key] = []string{}
		byNetwork := map[string]int{}
		for _, x := range runs {
			switch c := &clusters[x]; {
			case x == hi || global && c.Network == clusters[hi].Network:
				for _, ip := range podIPs(x) {
					want[key] = append(want[key], "direct "+ip)
				}
			case global:
				byNetwork[c.Network] += len(podIPs(x))
			}
		}
		for nw, pods := range byNetwork {
			for i := range clusters {
				if c := &clusters[i]; c.Network == nw && c.EastWestGateway != nil {
					want[key] = append(want[key], viaGateway(nw, gatewayAddress(c, i), hbonePort, pods))
				}
			}
		}
		slices.Sort(want[key])
	}
	var all []int
	for x := range clusters {
		all = append(all, x)
	}
	add(sampleNamespace, sampleName, false, all, func(x int) []string {
		var ips []string
		for k := range samplePods(x) {
			ips = append(ips, samplePodIP(x, k))
		}
		return ips
	})
	for si := range m.Spec.Services {
		svc := &m.Spec.Services[si]
		add(svc.Namespace, svc.Name, !svc.ClusterLocal, runsIn(m, svc), func(x int) []string {
			var ips []string
			for k := range samplePods(x) {
				ips = append(ips, servicePodIP(si, x, k))
			}
			return ips
		})
	}
	return want
}

func viaGateway(network, addr string, port uint32, pods int) string {
	return fmt.Sprintf("via %s:%d on network %s for %d pods", addr, port, network, pods)
}

// ztunnelView sums up, for every service of want, the workloads of addrs
// (what a ztunnel is sent) that serve it: "direct <pod IP>" for a workload
// with an address, "via ..." for one reached through a network gateway;
// and the networks of the network gateways among them.
func ztunnelView(addrs []model.AddressInfo, want map[string][]string) (map[string][]string, map[string]bool) {
	got, gateways := map[string][]string{}, map[string]bool{}
	for key := range want {
		got[key] = []string{}
	}
	for _, a := range addrs {
		w := a.GetWorkload()
		if w == nil {
			continue
		}
		if strings.HasPrefix(w.GetUid(), "NetworkGateway/") {
			gateways[w.GetNetwork()] = true
		}
		for key := range w.GetServices() {
			if _, ok := want[key]; !ok {
				continue
			}
			got[key] = append(got[key], describeWorkload(w)...)
		}
	}
	for key := range got {
		slices.Sort(got[key])
	}
	return got, gateways
}

// describeWorkload says how a ztunnel reaches w.
func describeWorkload(w *workloadapi.Workload) []string {
	if gw := w.GetNetworkGateway(); gw != nil {
		addr := gw.GetHostname().GetHostname()
		if a, ok := netip.AddrFromSlice(gw.GetAddress().GetAddress()); ok {
			addr = a.String()
		}
		return []string{viaGateway(w.GetNetwork(), addr, gw.GetHboneMtlsPort(), int(w.GetCapacity().GetValue()))}
	}
	var out []string
	for _, b := range w.GetAddresses() {
		if a, ok := netip.AddrFromSlice(b); ok {
			out = append(out, "direct "+a.String())
		}
	}
	return out
}

func sameView(got, want map[string][]string) bool {
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			return false
		}
	}
	return true
}

func describeView(v []string) string {
	if len(v) == 0 {
		return "no workloads"
	}
	return "[" + strings.Join(v, ", ") + "]"
}
