package rules

import (
	"fmt"
	"slices"
	"strconv"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// Rule is one cross-cluster check the schema cannot express. IDs are stable:
// users grep for them, editors link them, and docs/rules.md is generated
// from this table.
type Rule struct {
	ID   string
	Name string
	// Protects says what the rule prevents, in one sentence.
	Protects string
	// Symptom is what a user would otherwise see at runtime in Istio.
	Symptom string
	// Retired says why a rule no longer runs and what replaced it; its ID
	// is never given to another rule.
	Retired string
	// Runtime: the rule guards what Istio does with a mesh meshc can render
	// and compare, not what meshc needs to. The installed mesh a change
	// plan starts from may break it (it was installed before the rule
	// existed, or the change is the fix), so there its problems are
	// warnings (ValidateInstalled); a rule the renderer relies on never is.
	Runtime bool
	check   func(m *mesh.Mesh, report func(path, format string, args ...any))
}

// Rules is the catalogue of cross-cluster rules, in ID order.
var Rules = slices.Concat([]Rule{
	{
		ID: "MC001", Name: "duplicate-cluster",
		Protects: "Two clusters with the same name. The name is the cluster's multiCluster.clusterName, the --name of its remote secret (istio-remote-secret-<name>) and the ID istiod keys the cluster's endpoints by.",
		Symptom:  "Both clusters claim one cluster ID: the second remote secret replaces the first in istio-system, so istiod watches only one of them, and the other's services silently drop out of the mesh.",
		check:    checkDuplicateCluster,
	},
	{
		ID: "MC002", Name: "duplicate-network",
		Protects: "A network declared twice in spec.networks.",
		Symptom:  "Not an Istio error by itself (network names are only labels), but a copied line has usually replaced the network that was meant, and the clusters on that network then fail MC003 or MC007 in confusing ways; meshc refuses to guess.",
		check:    checkDuplicateNetwork,
	},
	{
		ID: "MC003", Name: "undeclared-network",
		Protects: "A cluster on a network that is not declared, usually a typo.",
		Symptom:  "Istio believes the label: the cluster's topology.istio.io/network and values.global.network name a network of its own that no east-west gateway serves, so istiod drops its endpoints for every other network and cross-cluster requests fail with 503 no healthy upstream.",
		check:    checkUndeclaredNetwork,
	},
	{
		ID: "MC004", Name: "role-topology-mismatch",
		Protects: "A remote cluster in a multi-primary mesh: the topology and a cluster's role contradict each other.",
		Symptom:  "A remote installed where every cluster is expected to run istiod has no control plane of its own and no primary configured to serve it (no externalIstiod, no exposed istiod): its sidecars never get configuration.",
		check:    checkRoleTopologyMismatch,
	},
	{
		ID: "MC005", Name: "remote-without-primary",
		Protects: "A remote cluster that names no primary in controlPlane, or names a cluster that does not exist, itself or another remote.",
		Symptom:  "The remote's injection webhook and remotePilotAddress point at no istiod: pod creation fails when the API server cannot call the injection webhook, or sidecars never become ready.",
		check:    checkRemoteWithoutPrimary,
	},
	{
		ID: "MC006", Name: "primary-with-control-plane",
		Protects: "A primary cluster that names a control plane.",
		Symptom:  "Only remotes use another cluster's istiod; the field on a primary means the role or the field is wrong, and guessing would either install a second control plane or leave a remote without one.",
		check:    checkPrimaryWithControlPlane,
	},
	{
		ID: "MC007", Name: "missing-east-west-gateway",
		Protects: "A network of a multi-network mesh whose clusters have no east-west gateway (a missing network gateway).",
		Symptom:  "istiod sends other networks only the gateway address of a network, never its pod IPs; with no gateway its workloads are unreachable from the other networks and requests to them fail with 503 no healthy upstream.",
		check:    checkMissingEastWestGateway,
	},
	{
		ID: "MC008", Name: "istiod-unreachable",
		Protects: "A primary serving remotes without an address its remotes can reach istiod at (eastWestGateway.address or istiod.address).",
		Symptom:  "Remotes cannot reach istiod on 15012 or the injection webhook on 15017: sidecar injection fails with timeouts and proxies stay unready. The Istio guides read this address from a load balancer after installing; meshc renders before, so it must be given.",
		check:    checkIstiodUnreachable,
	},
	{
		ID: "MC009", Name: "invalid-address",
		Protects: "A gateway or istiod address that looks like an IP but is not one, or is a loopback, unspecified, link-local or multicast address (the schema already rejects what is neither an IP nor a hostname).",
		Symptom:  "Remotes and peers dial an address that can never reach another cluster: it works on a laptop and fails everywhere else, with connection timeouts in istio-proxy logs.",
		check:    checkInvalidAddress,
	},
	{
		ID: "MC010", Name: "duplicate-context",
		Protects: "Two clusters sharing one kubeconfig context.",
		Symptom:  "PLAN.md installs two clusters' control planes into the same Kubernetes cluster; the second istioctl install overwrites the first, and the remote secrets point a cluster at itself.",
		check:    checkDuplicateContext,
	},
	{
		ID: "MC011", Name: "unreachable-api-server",
		Runtime:  true,
		Protects: "An API server URL whose host is a loopback, unspecified or link-local address, localhost, or not a valid IP.",
		Symptom:  "Remote secrets built from a kind or minikube kubeconfig (https://127.0.0.1:port) work on the laptop that made them; every other cluster's istiod dials itself, and istioctl remote-clusters shows the cluster as timeout.",
		check:    checkUnreachableAPIServer,
	},
	{
		ID: "MC012", Name: "unused-istiod-address",
		Runtime:  true,
		Protects: "An istiod.address on a cluster no remote or VM reaches istiod through: a remote (it runs no istiod) or a primary that serves no remotes or VMs.",
		Symptom:  "Nothing at install time: the address is silently unused, so the exposure the user believes is configured (and firewalls or DNS set up for it) does not exist, and remotes added later are pointed elsewhere than planned.",
		check:    checkUnusedIstiodAddress,
	},
	{
		ID: "MC013", Name: "unused-network",
		Runtime:  true,
		Protects: "A declared network that no cluster or VM sits on: usually a leftover or a typo for the network a cluster or workload group names.",
		Symptom:  "Nothing is installed for it, yet it reads as part of the mesh: a reviewer assumes a gateway serves it, and whether the mesh counts as multi-network (network labels, the cross-network Gateway) would depend on a name no workload uses.",
		check:    checkUnusedNetwork,
	},
	{
		ID: "MC014", Name: "ipv6-istiod-address-before-1-30",
		Runtime:  true,
		Protects: "A primary serving remotes at an IPv6 istiod address (istiod.address or eastWestGateway.address) when the Mesh targets Istio before 1.30, whose istiod chart (used by istioctl and Helm alike) recognises only IPv4 remotePilotAddress literals. docs/helm.md lists what else differs between releases.",
		Symptom:  "The remote's istiod Service becomes an ExternalName for the IPv6 literal and gets no endpoints: the injection webhook and xDS cannot reach the primary, pod creation fails or sidecars never become ready.",
		check:    checkIPv6IstiodAddressBefore130,
	},
	{
		ID: "MC020", Name: "reserved-namespace",
		Protects: "Sharing kube-system, kube-public, kube-node-lease or istio-system: namespaces Kubernetes and Istio own in every cluster.",
		Symptom:  "meshc would label a system namespace for injection: control-plane and kube-system pods restart with sidecars they cannot bootstrap (istiod cannot inject itself), and removing the mesh later would touch namespaces no team owns.",
		check:    checkReservedNamespace,
	},
	{
		ID: "MC021", Name: "conflicting-injection",
		Protects: "A shared namespace that sets two of istioInjection, tag and revision: the istio-injection and istio.io/rev labels together, or two values for istio.io/rev.",
		Symptom:  "istio-injection wins over istio.io/rev in Istio's webhooks, so pods are injected by (or kept from) a different control plane than the revision says, and canary upgrades silently do nothing.",
		check:    checkConflictingInjection,
	},
	{
		ID: "MC022", Name: "unknown-cluster",
		Protects: "A shared namespace or service that names a cluster the mesh does not have (in clusters or consumers).",
		Symptom:  "The namespace or stub is never created where it was meant to be: requests from that cluster fail with NXDOMAIN or 503, and nothing points at the misspelled name.",
		check:    checkUnknownCluster,
	},
	{
		ID: "MC023", Name: "namespace-not-shared",
		Protects: "A service in a namespace spec.namespaces does not list, or run or consumed in a cluster its namespace does not exist in.",
		Symptom:  "Namespace sameness breaks: the service's namespace is missing or unlabelled in some clusters, so its pods get no sidecar there and the service is not one service across the mesh (plaintext, 503s across clusters).",
		check:    checkNamespaceNotShared,
	},
	{
		ID: "MC024", Name: "service-port-mismatch",
		Protects: "One service (name and namespace) declared in several entries with different ports, port names or protocols.",
		Symptom:  "istiod merges a service's ports across clusters by hostname: requests on a port one cluster lacks, or with a protocol another disagrees on, are dropped or sent as plain TCP, and only some clusters' endpoints answer.",
		check:    checkServicePortMismatch,
	},
	{
		ID: "MC025", Name: "cluster-local-consumed",
		Runtime:  true,
		Protects: "A cluster-local service consumed from a cluster that does not run it.",
		Symptom:  "clusterLocal keeps every request in the cluster it starts in; from a cluster without the service's pods there is no endpoint, and requests fail with 503 no healthy upstream.",
		check:    checkClusterLocalConsumed,
	},
	{
		ID: "MC026", Name: "duplicate-shared",
		Protects: "A shared namespace declared twice, or one service declared in two entries for the same cluster or with different clusterLocal settings.",
		Symptom:  "Which declaration wins would decide injection labels or locality: a copied entry silently changes how the service is reached.",
		check:    checkDuplicateShared,
	},
	{
		ID: "MC030", Name: "unused-learn-address",
		Runtime:  true,
		Protects: "eastWestGateway.learnAddress where no remote waits for the address: together with an address, on a remote, on a primary that serves no remotes, or beside istiod.address.",
		Symptom:  "Nothing at install time, but the plan would wait for an address nothing uses (or ignore the one given): the remotes meant to use it are pointed elsewhere, or a remote added later stays uninstalled.",
		check:    checkUnusedLearnAddress,
	},
	{
		ID: "MC040", Name: "peer-is-self",
		Protects: "A peer with this mesh's own mesh ID or trust domain, or with trust domain cluster.local; a mesh with peers whose own trust domain is cluster.local.",
		Symptom:  "Federation keeps two meshes apart by their IDs and trust domains: with one trust domain, either mesh's workloads pass as the other's in every authorization policy, and with one mesh ID istiod cannot tell the meshes' endpoints apart. Istio reads cluster.local in a policy's principals as the local trust domain (trustdomain.Bundle.ReplaceTrustDomainAliases), so a policy naming the peer's cluster.local/ns/x/sa/y matches the local service account ns/x/sa/y instead.",
		check:    checkPeerIsSelf,
	},
	{
		ID: "MC041", Name: "duplicate-peer",
		Protects: "Two peers with the same mesh ID, trust domain or network (the peer's network, or one of its gateways').",
		Symptom:  "Two entries for one peer split its imports and exports; two peers on one network share its gateways, so requests for one peer's services go to the other's gateways and fail with 503 or a certificate error.",
		check:    checkDuplicatePeer,
	},
	{
		ID: "MC042", Name: "peer-network-overlap",
		Protects: "A peer, or one of its gateways, placed on one of this mesh's own networks.",
		Symptom:  "istiod sends endpoints on the proxy's own network as they are, and ignores that network's remote gateway: sidecars dial the peer's gateway without the passthrough port mapping it expects, or the peer's endpoints mix with local ones.",
		check:    checkPeerNetworkOverlap,
	},
	{
		ID: "MC043", Name: "peer-without-gateway",
		Protects: "A peer this mesh imports services from without a gateway address, or an import whose networks name no network of the peer's gateways.",
		Symptom:  "The imported services have no endpoint: requests to them fail with 503 no healthy upstream.",
		check:    checkPeerWithoutGateway,
	},
	{
		ID: "MC044", Name: "import-collision",
		Protects: "An imported host that is a service of this mesh (spec.services), or a host imported twice.",
		Symptom:  "istiod merges endpoints by hostname: local callers are load-balanced between the local service and the peer's gateway, and the peer's identities (subjectAltNames) reject the local endpoints or the other way round.",
		check:    checkImportCollision,
	},
	{
		ID: "MC045", Name: "unknown-export",
		Protects: "An export of a host the mesh does not have (when spec.services declares its services), on ports the service does not have, or exported twice to a peer.",
		Symptom:  "The federation Gateway passes a host nothing serves, or a port nothing listens on: the peer's calls fail with 503 or connection resets at this mesh's gateway.",
		check:    checkUnknownExport,
	},
	{
		ID: "MC046", Name: "exports-without-gateway",
		Protects: "An export no east-west gateway with an address reaches: the mesh has none, or the service runs (spec.services' clusters, workload groups named like it) on no network that has one. meshc vet's MC049 reads an importer's endpoints the same way.",
		Symptom:  "Nothing answers on 15443 for the peer, or the gateway that answers forwards only to endpoints on its own network (ISTIO_META_REQUESTED_NETWORK_VIEW) and has none of the service: the peer's calls time out or fail with 503 no healthy upstream; meshc certs --export has no address to give the peer.",
		check:    checkExportsWithoutGateway,
	},
	{
		ID: "MC047", Name: "foreign-identity",
		Protects: "An imported service's identity outside the peer's trust domain.",
		Symptom:  "The sidecar accepts only the identities listed: the peer's workloads present their own trust domain's identity, and every TLS handshake fails (upstream connect error, certificate verify failed).",
		check:    checkForeignIdentity,
	},
	{
		ID: "MC048", Name: "invalid-trust-anchor",
		Protects: "A peer trust anchor that is not one or more self-signed PEM CA certificates (empty, a key, a leaf certificate, an intermediate CA).",
		Symptom:  "istiod fails to load the peer's root (or carries a key into every proxy's config), or Envoy, which verifies a chain up to a self-signed root of its trust bundle, finds none above an intermediate: handshakes with the peer fail with certificate verify failed.",
		check:    checkInvalidTrustAnchor,
	},
	{
		ID: "MC049", Name: "peer-mismatch",
		Protects: "Mesh files of peers, given together to meshc vet, that disagree: an import the peer does not export or exports on other ports, a peer's trust domain or gateway addresses other than its own file gives, gateways of different networks of the peer placed on one network (or the reverse), an import whose endpoints include a gateway of a network where the peer does not run it or leave out one where it does, two files with one mesh ID or trust domain, a peer that does not name this mesh back.",
		Symptom:  "Each file is valid alone, yet the peer's gateway refuses the host (connection reset) or forwards it to a network where nothing runs it (a peer's east-west gateway sends only to endpoints on its own network: 503 no healthy upstream), the sidecar dials an address no gateway answers, or the peer rejects this mesh's certificates: the failures surface only when the two meshes talk.",
		// VetPeers checks it across files; no single file can break it.
	},
	{
		ID: "MC050", Name: "vm-istiod-hostname",
		Protects: "A primary that VMs register with whose istiod is reached at a hostname (eastWestGateway.address or istiod.address): the VMs' hosts file maps istiod's name to an IP.",
		Symptom:  "/etc/hosts cannot alias one name to another: the VM's sidecar resolves istiod.istio-system.svc to nothing, never gets certificates or configuration, and istio.log repeats connection errors to istiod.",
		check:    checkVMIstiodHostname,
	},
	{
		ID: "MC051", Name: "vm-istiod-unreachable",
		Protects: "A workload group whose primary has no address VMs reach istiod at: no east-west gateway with an address, no istiod.address (learnAddress is not enough: the VMs' hosts file is rendered with the address).",
		Symptom:  "The VMs cannot reach istiod on 15012: the sidecar never bootstraps, and the WorkloadGroup's VMs never appear as WorkloadEntries.",
		check:    checkVMIstiodUnreachable,
	},
	{
		ID: "MC052", Name: "vm-namespace-not-shared",
		Protects: "A workload group in a namespace the mesh does not share (when spec.namespaces lists any), in a shared namespace that does not exist in its cluster, or in a namespace Kubernetes or Istio owns.",
		Symptom:  "Namespace sameness breaks for the VMs: their identity (spiffe://.../ns/<namespace>/sa/<account>) names a namespace that means something else elsewhere, so authorization policies and the services they join do not match across clusters.",
		check:    checkVMNamespaceNotShared,
	},
	{
		ID: "MC053", Name: "vm-port-conflict",
		Protects: "A workload group port named differently from every port of the shared Service of the group's name and namespace: WorkloadEntry ports are keyed by Service port name.",
		Symptom:  "Traffic to the Service's port goes to the port of the same number on the VM, not the one declared, or the declared port is never used: requests fail with connection refused or reach the wrong listener.",
		check:    checkVMPortConflict,
	},
	{
		ID: "MC054", Name: "vm-cluster-not-primary",
		Protects: "A workload group whose cluster is not a primary of the mesh: an unknown name, or a remote (it runs no istiod, and its API server's WorkloadGroups are not read as config).",
		Symptom:  "No istiod reads the WorkloadGroup: the VMs connect, are not auto-registered, and get no workload identity or configuration.",
		check:    checkVMClusterNotPrimary,
	},
	{
		ID: "MC055", Name: "vm-undeclared-network",
		Protects: "A workload group on a network that is not declared, usually a typo.",
		Symptom:  "Istio believes the label: the VMs' endpoints are put on a network of their own that no gateway serves, so other networks drop them and requests to the VMs fail with 503 no healthy upstream.",
		check:    checkVMUndeclaredNetwork,
	},
	{
		ID: "MC056", Name: "duplicate-workload-group",
		Protects: "A workload group declared twice (name and namespace), a port name or VM instance name used twice, or two instances with one address on one network.",
		Symptom:  "The later object replaces the earlier one when applied: a VM or port silently disappears from the mesh, or two WorkloadEntries send one service's traffic to the same VM twice.",
		check:    checkDuplicateWorkloadGroup,
	},
	{
		ID: "MC057", Name: "vm-instance-address",
		Protects: "A VM instance address that is not an IP, or one no other machine can reach (loopback, unspecified, link-local, multicast).",
		Symptom:  "A WorkloadEntry with a hostname needs DNS resolution Services do not do, and an unroutable address works nowhere: requests to the VM time out.",
		check:    checkVMInstanceAddress,
	},
	{
		ID: "MC058", Name: "vm-probe",
		Protects: "A workload group probe with neither or both of httpGet and tcpSocket.",
		Symptom:  "istiod rejects or ignores the probe: auto-registered VMs are never marked healthy (no traffic), or a VM is marked healthy by the check that was not meant.",
		check:    checkVMProbe,
	},
	{
		ID: "MC059", Name: "vm-service-not-run",
		Protects: "A workload group named like a shared service registering with a cluster that, by spec.services, does not run it: the cluster gets a stub Service without a selector, or none.",
		Symptom:  "No Service in the cluster holding the WorkloadEntries selects the VMs: they are endpoints of no service, and requests to it never reach them (503 no healthy upstream where only VMs run it).",
		check:    checkVMServiceNotRun,
	},
	{
		ID: "MC060", Name: "gitops-needs-helm",
		Protects: "spec.gitops without installer: helm. A GitOps engine installs Istio's Helm charts; an IstioOperator is only istioctl's input, which no engine applies.",
		Symptom:  "The engine would have nothing to install Istio from: Argo CD and Flux cannot run istioctl install, so the tree would apply manifests to clusters with no control plane and no CRDs, and every sync would fail.",
		check:    checkGitOpsNeedsHelm,
	},
	{
		ID: "MC061", Name: "gitops-destination-without-api-server",
		Protects: "spec.gitops.destination: apiServer with a cluster that gives no apiServer.",
		Symptom:  "The cluster's Applications name no server: Argo CD rejects them (\"application destination spec is invalid\") and nothing is installed in that cluster, while the rest of the mesh syncs and waits for it.",
		check:    checkGitOpsDestinationWithoutAPIServer,
	},
	{
		ID: "MC062", Name: "flux-by-api-server",
		Protects: "spec.gitops.destination: apiServer with engine flux. Flux reaches another cluster only through a kubeconfig Secret (spec.kubeConfig.secretRef), never by URL alone.",
		Symptom:  "Flux would need credentials the tree cannot name: with destination name, each cluster's objects read the Secret <cluster>-kubeconfig (the Cluster API convention) that the management cluster holds.",
		check:    checkFluxByAPIServer,
	},
	{
		ID: "MC063", Name: "argocd-glob",
		Protects: "A value Argo CD reads as a glob pattern in the mesh's AppProject: the repository URL (sourceRepos) and, with destination: apiServer, each cluster's API server (destinations). The schema keeps *, ?, {, } and \\ out of URLs; the brackets of an IPv6 literal host remain.",
		Symptom:  "Argo CD matches sourceRepos and destinations as globs (*, ?, [...], {a,b}; a leading ! denies): https://* lets the project read any repository, https://*:6443 deploy to any cluster, and a bracketed IPv6 host is a character class that matches other servers and never the cluster itself.",
		check:    checkArgocdGlob,
	},
	{
		ID: "MC064", Name: "duplicate-api-server",
		Protects: "Two clusters given the same API server (apiServer), compared as https://host:port/path with the host in lower case, port 443 when absent and no trailing slash.",
		Symptom:  "The two are one Kubernetes cluster to everything that dials the URL: a primary's remote secret for the other reads its own cluster, and with GitOps destination apiServer both clusters' Applications install into the same istio-system, where the primary's and the remote's istiod releases overwrite each other.",
		check:    checkDuplicateAPIServer,
	},
	{
		ID: "MC065", Name: "argocd-revision-range",
		Protects: "A gitops.revision that Argo CD reads as a semantic version range (>=1.0, 1.x, !=1.2, 1.0||2.0) rather than one branch, tag or commit.",
		Symptom:  "Argo CD resolves such a revision against the repository's tags before it looks for a branch: a branch named 1.x silently follows the newest 1.y.z tag, and a range follows whatever tag is pushed next, so the fleet changes without a commit to the branch the mesh names.",
		check:    checkArgocdRevisionRange,
	},
}, caRules, peerGatewayRules, istioCSRRules, revisionRules, ambientRules, caMoveRules, changeRules)

// Validate applies every rule in Rules to a loaded mesh and returns all
// problems found, in input order. A mesh that passes renders.
func Validate(m *mesh.Mesh) diag.Problems {
	ps := check(m)
	ps.Sort()
	return mesh.LimitProblems(ps)
}

// ValidateInstalled vets the mesh a change plan starts from: what is
// installed is a fact, and the plan that fixes it must be possible. The
// problems of Runtime rules come back as warnings; the rest, which leave
// meshc unable to render or compare the mesh, as problems.
func ValidateInstalled(m *mesh.Mesh) (problems, warnings diag.Problems) {
	runtime := map[string]bool{}
	for _, r := range Rules {
		runtime[r.ID] = r.Runtime
	}
	for _, p := range check(m) {
		if runtime[p.Rule] {
			warnings = append(warnings, p)
		} else {
			problems = append(problems, p)
		}
	}
	problems.Sort()
	warnings.Sort()
	return mesh.LimitProblems(problems), mesh.LimitProblems(warnings)
}

// check runs every rule that is not retired, in catalogue order.
func check(m *mesh.Mesh) diag.Problems {
	var ps diag.Problems
	for _, r := range Rules {
		if r.check == nil {
			continue
		}
		r.check(m, func(path, format string, args ...any) {
			p := diag.Problem{Pos: m.Pos(path), Path: path, Rule: r.ID}
			if n := len(args); n > 0 {
				if s, ok := args[n-1].(diag.Suggested); ok {
					args, p.Suggestion = args[:n-1], string(s)
				}
			}
			p.Message = fmt.Sprintf(format, args...)
			ps = append(ps, p)
		})
	}
	return ps
}

// specPath is the path of item i of a spec list ("clusters", "peers", ...),
// and of field inside it when field is not "": spec.clusters[1].network.
func specPath(list string, i int, field string) string {
	p := "spec." + list + "[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return p
}

func clusterPath(i int, field string) string   { return specPath("clusters", i, field) }
func namespacePath(i int, field string) string { return specPath("namespaces", i, field) }
func servicePath(i int, field string) string   { return specPath("services", i, field) }
func peerPath(i int, field string) string      { return specPath("peers", i, field) }
func groupPath(i int, field string) string     { return specPath("workloadGroups", i, field) }

func checkDuplicateAPIServer(m *mesh.Mesh, report func(string, string, ...any)) {
	first := map[string]string{}
	for i, c := range m.Spec.Clusters {
		if c.APIServer == "" {
			continue
		}
		key := mesh.APIServerKey(c.APIServer)
		if other, ok := first[key]; ok && other != c.Name {
			report(clusterPath(i, "apiServer"), "cluster %q has API server %s, already the API server of cluster %q; each cluster is its own Kubernetes cluster", c.Name, diag.Quote(c.APIServer), other)
			continue
		}
		first[key] = c.Name
	}
}
