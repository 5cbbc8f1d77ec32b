package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
	"istio.io/istio/pkg/workloadapi"
)

const edsType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"

// Proxy is who asks istiod for endpoints: a sidecar of a cluster, on that
// cluster's network, as its node metadata says.
type Proxy struct {
	Cluster, Network, Namespace, IP, IstioVersion string
}

// Endpoints asks istiod at addr (plain-text xDS) for the endpoints of one
// Envoy cluster ("outbound|80||sample.sample.svc.cluster.local") as proxy,
// and returns them as sorted "ip:port".
func Endpoints(ctx context.Context, addr string, proxy Proxy, envoyCluster string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("xDS %s: %w", addr, err)
	}
	meta, err := structpb.NewStruct(map[string]any{
		"CLUSTER_ID":    proxy.Cluster,
		"NETWORK":       proxy.Network,
		"NAMESPACE":     proxy.Namespace,
		"ISTIO_VERSION": proxy.IstioVersion,
		"INSTANCE_IPS":  proxy.IP,
		"LABELS":        map[string]any{"app": "e2e-proxy"},
	})
	if err != nil {
		return nil, err
	}
	node := &core.Node{
		Id:       fmt.Sprintf("sidecar~%s~e2e-proxy.%s~%s.svc.cluster.local", proxy.IP, proxy.Namespace, proxy.Namespace),
		Cluster:  "e2e-proxy." + proxy.Namespace,
		Metadata: meta,
	}
	if err := stream.Send(&discovery.DiscoveryRequest{Node: node, TypeUrl: edsType, ResourceNames: []string{envoyCluster}}); err != nil {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("xDS %s as a proxy of %s: %w", addr, proxy.Cluster, err)
	}
	var got []string
	for _, r := range resp.Resources {
		var cla endpoint.ClusterLoadAssignment
		if err := r.UnmarshalTo(&cla); err != nil {
			return nil, err
		}
		if cla.ClusterName != envoyCluster {
			continue
		}
		for _, le := range cla.Endpoints {
			for _, ep := range le.LbEndpoints {
				sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
				if sa == nil {
					continue
				}
				got = append(got, fmt.Sprintf("%s:%d", sa.Address, sa.GetPortValue()))
			}
		}
	}
	sort.Strings(got)
	return got, nil
}

const addressType = "type.googleapis.com/istio.workload.Address"

// Ztunnel is who subscribes to WDS: the ztunnel of a cluster's node.
type Ztunnel struct {
	Cluster, Network, IP, IstioVersion string
}

// ZtunnelView subscribes to WDS at addr (plain-text xDS, incremental, as
// ztunnel does: a wildcard subscription to istio.workload.Address) as a
// ztunnel of its cluster, and sums up, for each service key of keys, the
// workloads it is sent that serve it: "direct <IP>" for a workload with
// addresses, "via <gateway>:<HBONE port> on network <n> for <capacity>
// pods" for one reached through a network gateway; and "waypoint <where>"
// when the service itself is sent with a waypoint. gateways are the
// networks whose gateway istiod sent as a workload of its own.
func ZtunnelView(ctx context.Context, addr string, z Ztunnel, keys []string) (view map[string][]string, gateways []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("xDS %s: %w", addr, err)
	}
	meta, err := structpb.NewStruct(map[string]any{
		"CLUSTER_ID":    z.Cluster,
		"NETWORK":       z.Network,
		"NAMESPACE":     "istio-system",
		"ISTIO_VERSION": z.IstioVersion,
		"INSTANCE_IPS":  z.IP,
	})
	if err != nil {
		return nil, nil, err
	}
	node := &core.Node{
		Id:       fmt.Sprintf("ztunnel~%s~ztunnel-e2e.istio-system~istio-system.svc.cluster.local", z.IP),
		Cluster:  "ztunnel.istio-system",
		Metadata: meta,
	}
	if err := stream.Send(&discovery.DeltaDiscoveryRequest{Node: node, TypeUrl: addressType}); err != nil {
		return nil, nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, nil, fmt.Errorf("WDS %s as the ztunnel of %s: %w", addr, z.Cluster, err)
	}
	view = map[string][]string{}
	for _, k := range keys {
		view[k] = []string{}
	}
	nets := map[string]bool{}
	for _, r := range resp.Resources {
		var a workloadapi.Address
		if err := r.GetResource().UnmarshalTo(&a); err != nil {
			return nil, nil, fmt.Errorf("WDS resource %s: %w", r.Name, err)
		}
		if svc := a.GetService(); svc != nil {
			key := svc.GetNamespace() + "/" + svc.GetHostname()
			if wp := svc.GetWaypoint(); wp != nil {
				if _, ok := view[key]; ok {
					view[key] = append(view[key], "waypoint "+describeGatewayAddress(wp))
				}
			}
			continue
		}
		w := a.GetWorkload()
		if w == nil {
			continue
		}
		if strings.HasPrefix(w.GetUid(), "NetworkGateway/") {
			nets[w.GetNetwork()] = true
		}
		for key := range w.GetServices() {
			if _, ok := view[key]; ok {
				view[key] = append(view[key], describeWorkload(w)...)
			}
		}
	}
	for k := range view {
		sort.Strings(view[k])
	}
	for n := range nets {
		gateways = append(gateways, n)
	}
	sort.Strings(gateways)
	return view, gateways, nil
}

// describeGatewayAddress says where a waypoint is reached:
// "<namespace>/<hostname>:<port>" or "<address>:<port>".
func describeGatewayAddress(g *workloadapi.GatewayAddress) string {
	if h := g.GetHostname(); h != nil {
		return fmt.Sprintf("%s/%s:%d", h.GetNamespace(), h.GetHostname(), g.GetHboneMtlsPort())
	}
	a, _ := netip.AddrFromSlice(g.GetAddress().GetAddress())
	return fmt.Sprintf("%s:%d", a, g.GetHboneMtlsPort())
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
