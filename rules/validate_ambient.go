package rules

import "meshc.dev/meshc/mesh"

// The rules of spec.dataPlane: ambient (MC084–MC093, MC101). Ambient multicluster
// is beta upstream for one shape only, multi-primary with one network per
// cluster from Istio 1.29; each rule refuses a shape upstream has not made
// work, citing the Istio issue that shows how it breaks.
var ambientRules = []Rule{
	{
		ID: "MC084", Name: "ambient-primary-remote",
		Protects: "dataPlane ambient with topology primary-remote: the ambient multicluster guide supports multi-primary only (istio/istio#52571, and the guide's limitations).",
		Symptom:  "A remote's ztunnels are served by the primary's istiod, which applies the remote's policies as its own: L4 AuthorizationPolicies of the remote cluster are not enforced there, and configurations with remote clusters \"will not work correctly\" (istio.io ambient multicluster limitations).",
		check:    checkAmbientPrimaryRemote,
	},
	{
		ID: "MC085", Name: "ambient-shared-network",
		Protects: "Two clusters of an ambient mesh on one network: ambient multicluster on a single network is untested upstream and alpha at best (istio/istio#42137); beta covers one network per cluster.",
		Symptom:  "ztunnels dial the other cluster's pod IPs directly instead of the east-west gateway; where the pod networks are not in fact routable between the clusters, connections time out with no error in istiod, and upstream does not test the shape.",
		check:    checkAmbientSharedNetwork,
	},
	{
		ID: "MC086", Name: "ambient-before-beta",
		Protects: "dataPlane ambient when the Mesh targets Istio before 1.29, where ambient multicluster is alpha and differs from the guide meshc follows. docs/helm.md lists what else differs between releases.",
		Symptom:  "The alpha releases lack fixes the beta guide relies on (the east-west gateway class istio-east-west, global service scope across networks): cross-network requests fail or bypass the gateway, in ways the 1.29 guide does not describe.",
		check:    checkAmbientBeforeBeta,
	},
	{
		ID: "MC087", Name: "ambient-federation",
		Protects: "dataPlane ambient with federation peers: a peer has its own trust domain, and ambient multicluster works only within one (istio/istio#58511, #61608).",
		Symptom:  "ztunnel verifies the peer's workloads against this mesh's trust domain: HBONE connections across the meshes fail the identity check (connection reset), while each mesh works alone.",
		check:    checkAmbientFederation,
	},
	{
		ID: "MC088", Name: "ambient-vms",
		Protects: "dataPlane ambient with workloadGroups: a VM joins with a sidecar, and a sidecar in a mesh whose istiod runs AMBIENT_ENABLE_MULTI_NETWORK loses its remote endpoints (istio/istio#61713) and its DNS ServiceEntry clusters (#60343).",
		Symptom:  "The VM's sidecar gets no endpoints of the other networks (503 no healthy upstream) and no cluster for DNS-resolved ServiceEntries, with nothing in istiod's logs.",
		check:    checkAmbientVms,
	},
	{
		ID: "MC089", Name: "ambient-sidecar-namespace",
		Runtime:  true,
		Protects: "A shared namespace of an ambient mesh that asks for sidecars (istioInjection: enabled or a revision): the multi-network flag ambient needs breaks sidecars (istio/istio#61713, #60716).",
		Symptom:  "The namespace's pods get sidecars whose istiod, running AMBIENT_ENABLE_MULTI_NETWORK, drops their endpoints on other networks: cross-network calls from them fail with 503 no healthy upstream.",
		check:    checkAmbientSidecarNamespace,
	},
	{
		ID: "MC090", Name: "ambient-dns-proxy",
		Runtime:  true,
		Protects: "serviceResolution: dns-proxy in an ambient mesh: Istio's DNS proxying is the sidecar's, and an ambient caller needs the global service to exist in its own cluster (istio/istio#61068), which the stub Service gives.",
		Symptom:  "A caller in a cluster that does not run the service gets NXDOMAIN, or, where its name resolves, ztunnel finds no local global service for it and sends the request nowhere.",
		check:    checkAmbientDnsProxy,
	},
	{
		ID: "MC091", Name: "ambient-waypoint",
		Runtime:  true,
		Protects: "A service whose entries name different waypoints in different clusters, a cluster-local service behind a waypoint a global service makes global, or a waypoint in a sidecar mesh: ambient multicluster assumes the same waypoint, by name, in every cluster (istio/istio#58064), and makes a service behind a global waypoint global.",
		Symptom:  "Requests from a cluster whose waypoint name differs skip the waypoint or are sent to one the destination cluster does not have: L7 policy is not applied, or the request fails.",
		check:    checkAmbientWaypoint,
	},
	{
		ID: "MC092", Name: "ambient-istio-csr",
		Protects: "issuer istio-csr in an ambient mesh: ztunnel requests certificates for the pods of its node, which istio-csr signs only when told to trust ztunnel's service account (cert-manager/istio-csr#331), which meshc does not render yet.",
		Symptom:  "istio-csr refuses every ztunnel request (the identities do not match): no ambient pod gets a certificate and every connection fails with an identity error in ztunnel's logs.",
		check:    checkAmbientIstioCsr,
	},
	{
		ID: "MC093", Name: "ambient-revision",
		Protects: "dataPlane ambient with spec.istio.revision (or tags, or a previous revision): meshc renders ambient's istiod, istio-cni and ztunnel for the default revision only.",
		Symptom:  "ztunnel and istio-cni are one per node, not per revision: a revisioned ambient control plane needs ztunnel's revision and its xDS address pointed at istiod-<revision>, and upgrades of ambient go by ztunnel's own rollout, which canary tags do not move; meshc does not render that yet, and half of it would leave ztunnel without configuration.",
		check:    checkAmbientRevision,
	},
	{
		ID: "MC101", Name: "ambient-global-out-of-mesh",
		Runtime:  true,
		Protects: "A global service (shared, not cluster-local) of an ambient mesh in a namespace kept out of the data plane (istioInjection: disabled): another network reaches a global service through the east-west gateway, which hands the inner HBONE connection to the pod's port 15008 (pilot/pkg/networking/core/cluster_waypoint.go), where only ztunnel's capture listens.",
		Symptom:  "Calls from the other networks to the service fail (connection refused or reset at the pod), while the stub Services meshc renders there advertise it; calls inside its own network work.",
		check:    checkAmbientGlobalOutOfMesh,
	},
}

func checkAmbientGlobalOutOfMesh(m *mesh.Mesh, report func(string, string, ...any)) {
	if !m.Ambient() {
		return
	}
	network := map[string]string{}
	for _, c := range m.Spec.Clusters {
		network[c.Name] = c.Network
	}
	for i := range m.Spec.Services {
		s := &m.Spec.Services[i]
		n := m.SharedNamespace(s.Namespace)
		if s.ClusterLocal || n == nil || m.NamespaceLabel(n)[1] != "none" {
			continue
		}
		// Only a caller on a network the service does not run on goes
		// through an east-west gateway.
		runsOn := map[string]bool{}
		for _, c := range m.ServiceClusters(s) {
			runsOn[network[c]] = true
		}
		callers := s.Consumers
		if len(callers) == 0 {
			callers = m.NamespaceClusters(n)
		}
		for _, c := range callers {
			if !runsOn[network[c]] {
				report(servicePath(i, "namespace"), "service %s/%s is global, but namespace %q is out of the ambient data plane (istioInjection: disabled): ztunnel does not capture its pods, so calls from cluster %s on network %s, through the east-west gateway, reach nothing; set clusterLocal: true, or take the namespace into the mesh", s.Namespace, s.Name, s.Namespace, c, network[c])
				break
			}
		}
	}
}

func checkAmbientPrimaryRemote(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && m.Spec.Topology == mesh.PrimaryRemote {
		report("spec.topology", "dataPlane ambient supports topology %s only: ambient multicluster with remote clusters is not supported upstream (istio/istio#52571); use %s, or dataPlane sidecar", mesh.MultiPrimary, mesh.MultiPrimary)
	}
}

func checkAmbientSharedNetwork(m *mesh.Mesh, report func(string, string, ...any)) {
	if !m.Ambient() {
		return
	}
	first := map[string]string{}
	for i, c := range m.Spec.Clusters {
		other, seen := first[c.Network]
		if !seen {
			first[c.Network] = c.Name
			continue
		}
		report(clusterPath(i, "network"), "cluster %q shares network %q with cluster %q: ambient multicluster on one network is untested upstream (istio/istio#42137); give each cluster a network of its own", c.Name, c.Network, other)
	}
}

func checkAmbientBeforeBeta(m *mesh.Mesh, report func(string, string, ...any)) {
	minor := m.IstioMinor()
	if !m.Ambient() || minor == 0 || !mesh.IstioChangeOf("MC086").Affects(minor) {
		return
	}
	report("spec.istio.version", "dataPlane ambient needs Istio 1.%d or later, where ambient multicluster is beta; %s has it as alpha", mesh.FirstAmbientMultiNetworkBeta, m.Spec.Istio.Version)
}

func checkAmbientFederation(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && len(m.Spec.Peers) > 0 {
		report("spec.peers", "dataPlane ambient does not federate: ambient multicluster works within one trust domain, and every peer has its own (istio/istio#58511, #61608); federate with dataPlane sidecar")
	}
}

func checkAmbientVms(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && len(m.Spec.WorkloadGroups) > 0 {
		report("spec.workloadGroups", "dataPlane ambient cannot take VMs: a VM runs a sidecar, which loses its endpoints on other networks under ambient's AMBIENT_ENABLE_MULTI_NETWORK (istio/istio#61713); keep VMs in a sidecar mesh")
	}
}

func checkAmbientSidecarNamespace(m *mesh.Mesh, report func(string, string, ...any)) {
	if !m.Ambient() {
		return
	}
	for i, n := range m.Spec.Namespaces {
		field := ""
		switch {
		case n.Revision != "":
			field = "revision"
		case n.IstioInjection == "enabled":
			field = "istioInjection"
		default:
			continue
		}
		report(namespacePath(i, field), "namespace %q asks for sidecars in an ambient mesh, whose istiod runs AMBIENT_ENABLE_MULTI_NETWORK, which drops a sidecar's endpoints on other networks (istio/istio#61713); remove %s (the namespace joins the ambient data plane)", n.Name, field)
	}
}

func checkAmbientDnsProxy(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && m.Spec.ServiceResolution == mesh.ResolveByDNSProxy {
		report("spec.serviceResolution", "serviceResolution %s is a sidecar feature, and an ambient caller needs the global service in its own cluster (istio/istio#61068): use %s", mesh.ResolveByDNSProxy, mesh.ResolveByStubService)
	}
}

func checkAmbientWaypoint(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]int{}
	for i, s := range m.Spec.Services {
		if s.Waypoint == "" {
			continue
		}
		if !m.Ambient() {
			report(servicePath(i, "waypoint"), "service %s/%s names waypoint %q, but waypoints are ambient's: set dataPlane ambient or remove it", s.Namespace, s.Name, s.Waypoint)
			continue
		}
		key := s.Namespace + "/" + s.Name
		j, seen := first[key]
		if !seen {
			first[key] = i
			continue
		}
		if w := m.Spec.Services[j].Waypoint; w != s.Waypoint {
			report(servicePath(i, "waypoint"), "service %s uses waypoint %q here and %q in %s: ambient multicluster needs one waypoint name in every cluster (istio/istio#58064)", key, s.Waypoint, w, servicePath(j, ""))
		}
	}
	// An entry without a waypoint beside one with a waypoint is the same
	// skew: some clusters would send the service's traffic through it and
	// others not.
	for i, s := range m.Spec.Services {
		key := s.Namespace + "/" + s.Name
		if j, ok := first[key]; ok && m.Ambient() && s.Waypoint == "" {
			report(servicePath(i, ""), "service %s has no waypoint here but waypoint %q in %s: ambient multicluster needs one waypoint name in every cluster (istio/istio#58064)", key, m.Spec.Services[j].Waypoint, servicePath(j, ""))
		}
	}
	// A waypoint a global service uses is global, and a service behind a
	// global waypoint is global too (the ambient multicluster guide's
	// limitations): a cluster-local service there would cross clusters.
	global := map[string]int{}
	for i, s := range m.Spec.Services {
		if m.Ambient() && s.Waypoint != "" && !s.ClusterLocal {
			if _, ok := global[s.Namespace+"/"+s.Waypoint]; !ok {
				global[s.Namespace+"/"+s.Waypoint] = i
			}
		}
	}
	for i, s := range m.Spec.Services {
		if j, ok := global[s.Namespace+"/"+s.Waypoint]; ok && s.ClusterLocal {
			g := m.Spec.Services[j]
			report(servicePath(i, "waypoint"), "cluster-local service %s/%s names waypoint %q, which global service %s/%s (%s) makes global, and a service behind a global waypoint is global too (ambient multicluster guide): give it a waypoint of its own", s.Namespace, s.Name, s.Waypoint, g.Namespace, g.Name, servicePath(j, ""))
		}
	}
}

func checkAmbientIstioCsr(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && m.UsesIstioCSR() {
		report("spec.ca.issuer", "issuer istio-csr with dataPlane ambient: istio-csr must trust ztunnel's service account to sign its requests (cert-manager/istio-csr#331), which meshc does not render yet; use issuer %s or meshc", "cert-manager")
	}
}

func checkAmbientRevision(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Ambient() && (m.Revisioned() || len(m.Spec.Istio.Tags) > 0 || m.Spec.Istio.Previous != nil) {
		report("spec.istio", "dataPlane ambient with a named revision, tags or a previous revision: meshc renders ambient (istiod, istio-cni, ztunnel) for the default revision only; leave spec.istio.revision, tags and previous out")
	}
}
