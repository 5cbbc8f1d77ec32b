package conformance

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"k8s.io/apimachinery/pkg/runtime"

	"istio.io/istio/pilot/pkg/config/memory"
	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pilot/pkg/serviceregistry"
	kubecontroller "istio.io/istio/pilot/pkg/serviceregistry/kube/controller"
	"istio.io/istio/pilot/pkg/serviceregistry/serviceentry"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/config/schema/collection"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/config/schema/gvr"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/kclient/clienttest"
	"istio.io/istio/pkg/network"
	"istio.io/istio/pkg/test"
)

// systemNamespace is istiod's system namespace, whose topology.istio.io/network
// label gives the network of a cluster's workloads.
const systemNamespace = "istio-system"

// istiodView is one primary's istiod, built the way Istio's own fake
// discovery server (pilot/test/xds) builds it: one Kubernetes registry per
// cluster it reads, its own cluster's Istio config, its mesh config, and the
// push context and EDS builder its xDS server uses. Unlike that fake, each
// registry is given the system namespace, as istiod's multicluster
// controller gives it, so the namespace's network label is read.
type istiodView struct {
	cg    *core.ConfigGenTest
	index *model.EndpointIndex
	// clusterIDs are the registries istiod has, by cluster ID.
	clusterIDs []string
	dualStack  bool
}

// startIstiod builds the istiod of cluster c from what s says the clusters
// hold. It stops when t's cleanups run.
func startIstiod(t test.Failer, s *Scenario, c *ClusterState) *istiodView {
	if err := startDNS(); err != nil {
		t.Fatal(err)
	}
	index := model.NewEndpointIndex(model.DisabledCache{})
	updater := model.NewEndpointIndexUpdater(index)
	mc := c.Istiod.MeshConfig
	watcher := meshwatcher.NewTestWatcher(mc)
	v := &istiodView{index: index, dualStack: s.DualStack}

	var registries []serviceregistry.Instance
	var configRegistry *kubecontroller.FakeController
	var crossCluster []*serviceentry.Controller
	stop := test.NewStop(t)
	addRegistry := func(id string, source *ClusterState) {
		objs, _ := split(source.Objects)
		client := kubelib.NewFakeClient(objs...)
		// Where the API server serves the Gateway API, istiod reads Gateways
		// labelled with a network (class istio-remote) as network gateways.
		if source.ServesGatewayAPI {
			clienttest.MakeCRD(t, client, gvr.KubernetesGateway)
		}
		reg, _ := kubecontroller.NewFakeControllerWithOptions(t, kubecontroller.FakeControllerOptions{
			Client:          client,
			ClusterID:       cluster.ID(id),
			DomainSuffix:    "cluster.local",
			XDSUpdater:      updater,
			MeshWatcher:     watcher,
			SystemNamespace: systemNamespace,
			ConfigCluster:   source == c,
			SkipRun:         true, // the aggregate registry runs it
		})
		registries = append(registries, reg)
		v.clusterIDs = append(v.clusterIDs, id)
		if source == c {
			configRegistry = reg
			return
		}
		// As istiod's multicluster controller does (on by default,
		// PILOT_ENABLE_CROSS_CLUSTER_WORKLOAD_ENTRY): the WorkloadEntries
		// of another cluster it reads are selected by that cluster's
		// Services, so a VM registered with one primary reaches the
		// sidecars of every primary that reads its cluster.
		if features.EnableK8SServiceSelectWorkloadEntries && features.WorkloadEntryCrossCluster {
			if wle := workloadEntryController(t, source, id, reg, updater, watcher, stop); wle != nil {
				registries = append(registries, wle)
				crossCluster = append(crossCluster, wle)
			}
		}
	}
	addRegistry(c.Istiod.ClusterID, c)
	for _, r := range c.Istiod.Reads {
		if src := s.cluster(r.Source); src != nil {
			addRegistry(r.ClusterID, src)
		}
	}
	_, configs := split(c.Objects)
	v.cg = core.NewConfigGenTest(t, core.TestOptions{
		Configs:           configs,
		MeshConfig:        mc,
		ServiceRegistries: registries,
		ClusterID:         cluster.ID(c.Istiod.ClusterID),
		XDSUpdater:        updater,
		SkipRun:           true, // run below, once WorkloadEntries reach the Services
	})
	// One endpoint index, as in istiod: the registries write to it (EDS
	// reads it) and the push context builds Envoy's DNS clusters from it.
	v.cg.Env().EndpointIndex = index
	// As istiod's multicluster controller does: the config cluster's
	// Services select its WorkloadEntries (VMs).
	if features.EnableK8SServiceSelectWorkloadEntries {
		v.cg.ServiceEntryRegistry.AppendWorkloadHandler(configRegistry.WorkloadInstanceHandler)
	}
	for _, wle := range crossCluster {
		wle.AppendWorkloadHandler(v.cg.ServiceEntryRegistry.WorkloadInstanceHandler)
	}
	v.cg.Run()
	if err := v.cg.Env().InitNetworksManager(updater); err != nil {
		t.Fatal(err)
	}
	v.cg.Env().PushContext().InitContext(v.cg.Env(), nil, nil)
	return v
}

// workloadEntryController is the controller istiod runs for the
// WorkloadEntries of a cluster it reads but takes no other config from
// (the remote cluster id, whose Kubernetes registry is reg), or nil if the
// cluster holds none.
func workloadEntryController(t test.Failer, source *ClusterState, id string, reg *kubecontroller.FakeController,
	updater model.XDSUpdater, watcher meshwatcher.WatcherCollection, stop chan struct{},
) *serviceentry.Controller {
	store := memory.NewController(memory.MakeSkipValidation(collection.NewSchemasBuilder().MustAdd(collections.WorkloadEntry).Build()))
	n := 0
	for _, o := range source.Objects {
		if o.Config != nil && o.Config.GroupVersionKind == gvk.WorkloadEntry {
			if _, err := store.Create(*o.Config); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		return nil
	}
	go store.Run(stop)
	wle := serviceentry.NewWorkloadEntryController(store, updater, nil, watcher,
		serviceentry.WithClusterID(cluster.ID(id)), serviceentry.WithNetworkIDCb(reg.Network))
	wle.AppendWorkloadHandler(reg.WorkloadInstanceHandler)
	return wle
}

// split separates Kubernetes objects from Istio config.
func split(objs []Object) (kube []runtime.Object, istio []config.Config) {
	for _, o := range objs {
		switch {
		case o.Object != nil:
			kube = append(kube, o.Object)
		case o.Config != nil:
			istio = append(istio, *o.Config)
		}
	}
	return kube, istio
}

// connected is a proxy as istiod sees it once connected, with the clusters
// istiod sends it (CDS) and the names of those whose endpoints come from EDS.
type connected struct {
	proxy    *model.Proxy
	all      []*clusterv3.Cluster
	clusters []string
}

// connect sets p up as istiod does when its Envoy connects, and asks for
// its clusters.
func (v *istiodView) connect(p *Proxy) connected {
	typ := model.SidecarProxy
	if p.Gateway {
		typ = model.Router
	}
	ips := []string{p.IP}
	if a, err := netip.ParseAddr(p.IP); err == nil && a.Is4() && v.dualStack {
		b := a.As4()
		ips = append(ips, netip.AddrFrom16([16]byte{0xfd, 12: b[0], 13: b[1], 14: b[2], 15: b[3]}).String())
	}
	proxy := v.cg.SetupProxy(&model.Proxy{
		Type:            typ,
		ID:              p.Labels["app"] + "." + p.Cluster,
		IPAddresses:     ips,
		Labels:          p.Labels,
		ConfigNamespace: p.Namespace,
		Metadata: &model.NodeMetadata{
			ClusterID:            cluster.ID(p.ClusterID),
			Network:              network.ID(p.Network),
			Namespace:            p.Namespace,
			Labels:               p.Labels,
			RequestedNetworkView: p.NetworkView,
		},
	})
	all := v.cg.Clusters(proxy)
	return connected{proxy, all, edsClusters(all)}
}

// endpoints returns what istiod's EDS sends the connected proxy p for the
// Envoy cluster ec: every endpoint's address, the cluster ID in its
// metadata and its weight. Like a connected Envoy, the proxy asks only for
// clusters istiod sent it. For a cluster Envoy resolves itself (DNS), they
// are the cluster's own endpoints, as istiod sends them.
func (v *istiodView) endpoints(p *Proxy, c connected, ec string) ([]Endpoint, error) {
	var cla *endpoint.ClusterLoadAssignment
	if i := slices.IndexFunc(c.all, func(x *clusterv3.Cluster) bool { return x.GetName() == ec }); i < 0 {
		return nil, fmt.Errorf("istiod sends the %s no cluster %s", p, ec)
	} else if c.all[i].GetType() != clusterv3.Cluster_EDS {
		cla = c.all[i].GetLoadAssignment()
	} else {
		b := endpoints.NewEndpointBuilder(ec, c.proxy, v.cg.PushContext())
		if cla = b.BuildClusterLoadAssignment(v.index); cla == nil {
			return nil, fmt.Errorf("istiod builds no load assignment for %s", ec)
		}
	}
	var out []Endpoint
	for _, l := range cla.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			out = append(out, Endpoint{Address: address(e), Cluster: endpointCluster(e), Weight: e.GetLoadBalancingWeight().GetValue()})
		}
	}
	return out, nil
}

// passthroughNames lists the SNI names the filter chains of the proxy's
// 15443 listener match: for an east-west gateway, the hosts that pass it.
func (v *istiodView) passthroughNames(c connected) []string {
	var names []string
	for _, l := range v.cg.Listeners(c.proxy) {
		if l.GetAddress().GetSocketAddress().GetPortValue() != 15443 {
			continue
		}
		for _, fc := range l.GetFilterChains() {
			names = append(names, fc.GetFilterChainMatch().GetServerNames()...)
		}
	}
	return names
}

// edsClusters lists the CDS clusters whose endpoints come from EDS.
func edsClusters(cs []*clusterv3.Cluster) []string {
	var names []string
	for _, c := range cs {
		if c.GetType() == clusterv3.Cluster_EDS {
			names = append(names, c.GetName())
		}
	}
	return names
}

// address is an endpoint's socket address as host:port.
func address(e *endpoint.LbEndpoint) string {
	sa := e.GetEndpoint().GetAddress().GetSocketAddress()
	return net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
}

// endpointCluster is the cluster ID istiod puts in an endpoint's metadata
// (istio.workload: name;namespace;service;revision;cluster).
func endpointCluster(e *endpoint.LbEndpoint) string {
	w := e.GetMetadata().GetFilterMetadata()["istio"].GetFields()["workload"].GetStringValue()
	if i := strings.LastIndexByte(w, ';'); i >= 0 {
		return w[i+1:]
	}
	return ""
}

// networks returns, by cluster ID, the networks istiod put the endpoints of
// service (a hostname) in namespace on.
func (v *istiodView) networks(service, namespace string) map[string][]string {
	out := map[string][]string{}
	shards, ok := v.index.ShardsForService(service, namespace)
	if !ok {
		return out
	}
	shards.RLock()
	defer shards.RUnlock()
	for key, eps := range shards.Shards {
		for _, e := range eps {
			out[string(key.Cluster)] = appendNew(out[string(key.Cluster)], string(e.Network))
		}
	}
	return out
}

// gateways returns the network gateways istiod knows, as
// "address:port on network" by the cluster ID they were found in.
func (v *istiodView) gateways() map[string][]string {
	out := map[string][]string{}
	for _, g := range v.cg.PushContext().NetworkManager().AllGateways() {
		out[string(g.Cluster)] = append(out[string(g.Cluster)], gatewayFact(net.JoinHostPort(g.Addr, strconv.Itoa(int(g.Port))), string(g.Network)))
	}
	return out
}

func gatewayFact(addr, network string) string { return addr + " on network " + strconv.Quote(network) }

func (s *Scenario) cluster(name string) *ClusterState {
	for _, c := range s.Clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}
