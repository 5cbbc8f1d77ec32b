package rules

// Guarantee is a multicluster mistake meshc rules out by construction rather
// than by a rule: the input has one place for the value and every rendered
// file takes it from there. The catalogue (docs/rules.md) lists them so users
// know why no check exists; a test verifies each on every rendered example.
type Guarantee struct {
	// Mistake is what goes wrong when the manifests are written by hand.
	Mistake string
	// Symptom is what a user would see at runtime in Istio.
	Symptom string
	// How says where the single value lives and which outputs take it.
	How string
}

// Guarantees is the list of mistakes meshc's output cannot contain.
var Guarantees = []Guarantee{
	{
		Mistake: "A remote secret named differently from the cluster's clusterName.",
		Symptom: "istiod registers the cluster under the secret's name, which matches no proxy's cluster ID: endpoints are attributed to a cluster that does not exist and locality and network routing go wrong.",
		How:     "clusters[].name is both values.global.multiCluster.clusterName in the cluster's istio.yaml (or the istiod chart's values, global.multiCluster.clusterName) and the --name of its istioctl create-remote-secret in PLAN.md.",
	},
	{
		Mistake: "A network label missing on a cluster of a multi-network mesh, or naming a different network than values.global.network.",
		Symptom: "istiod cannot tell which network the cluster's endpoints are on and sends their pod IPs to other networks, where they are unroutable (connection timeouts).",
		How:     "clusters[].network is rendered as values.global.network for every cluster (the istiod chart's global.network and the east-west gateway's networkGateway on the Helm path) and, in a multi-network mesh, as the topology.istio.io/network label of istio-system.",
	},
	{
		Mistake: "Clusters disagreeing on meshID.",
		Symptom: "Proxies report different mesh IDs (source_mesh_id and destination_mesh_id in telemetry), and the Istio guides' requirement that every cluster of one mesh share its meshID is broken.",
		How:     "spec.meshID is a single field, rendered into every cluster's values.global.meshID (global.meshID of the istiod chart on the Helm path).",
	},
	{
		Mistake: "Clusters disagreeing on trust domain.",
		Symptom: "Identities issued in one cluster carry a trust domain the others do not expect: authorization policies naming principals stop matching, and cross-cluster mTLS can fail unless trustDomainAliases are set.",
		How:     "spec.trustDomain is a single field, rendered into every cluster's meshConfig.trustDomain (IstioOperator or istiod chart values).",
	},
	{
		Mistake: "A federated peer's imported service entries placed on another network than the peer's remote gateway is labelled with.",
		Symptom: "istiod finds no gateway for the endpoints' network: sidecars dial the endpoints directly or get none, and calls to the peer's services fail with 503 or time out.",
		How:     "spec.peers[].network is both the topology.istio.io/network label of the peer's istio-remote Gateway and the network of every endpoint of the services imported from it, in federation-peers.yaml.",
	},
	{
		Mistake: "istio-csr's clusterID other than the cluster's name (the chart's default is Kubernetes).",
		Symptom: "istio-csr checks each proxy's cluster ID against its own and refuses the others' certificate requests: sidecars never get a certificate and stay unready.",
		How:     "clusters[].name is both the cluster's multiCluster.clusterName and app.server.clusterID in its ca/istio-csr.values.yaml.",
	},
	{
		Mistake: "istio-csr's trust domain disagreeing with the mesh's.",
		Symptom: "istio-csr signs identities in another trust domain than istiod and the authorization policies expect: mTLS peers and principals stop matching.",
		How:     "spec.trustDomain is both meshConfig.trustDomain and app.tls.trustDomain in every cluster's ca/istio-csr.values.yaml.",
	},
	{
		Mistake: "istio-csr serving fewer revisions than the mesh's namespaces are injected by.",
		Symptom: "istio-csr issues istiod's serving certificate for its revisions only: the sidecars of a namespace injected by another revision cannot verify that revision's istiod (istiod-<revision>.istio-system.svc) and get no configuration.",
		How:     "app.istio.revisions in every cluster's ca/istio-csr.values.yaml is the revision meshc installs (spec.istio.revision, or default), which every tag a namespace selects points at.",
	},
}
