package e2e

import (
	"context"
	"fmt"
	"sort"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
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
