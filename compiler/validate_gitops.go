package compiler

// gitopsRules are the rules of spec.gitops, appended to Rules.
var gitopsRules = []Rule{
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
		check:    checkGitOpsDestination,
	},
	{
		ID: "MC062", Name: "flux-by-api-server",
		Protects: "spec.gitops.destination: apiServer with engine flux. Flux reaches another cluster only through a kubeconfig Secret (spec.kubeConfig.secretRef), never by URL alone.",
		Symptom:  "Flux would need credentials the tree cannot name: with destination name, each cluster's objects read the Secret <cluster>-kubeconfig (the Cluster API convention) that the management cluster holds.",
		check:    checkFluxByAPIServer,
	},
}

func init() { Rules = append(Rules, gitopsRules...) }

func checkGitOpsNeedsHelm(m *Mesh, report func(string, string, ...any)) {
	if m.Spec.GitOps != nil && !m.UsesHelm() {
		report("spec.gitops", "gitops needs installer: helm (installer is %q); Argo CD and Flux install Istio's charts, not IstioOperator files", m.Spec.Installer)
	}
}

func checkGitOpsDestination(m *Mesh, report func(string, string, ...any)) {
	g := m.Spec.GitOps
	if g == nil || g.Destination != DestinationAPIServer || g.Engine != EngineArgoCD {
		return
	}
	for i, c := range m.Spec.Clusters {
		if c.APIServer == "" {
			report(clusterPath(i, "name"), "cluster %q gives no apiServer, which gitops.destination: apiServer addresses it by; add apiServer or use destination: name", c.Name)
		}
	}
}

func checkFluxByAPIServer(m *Mesh, report func(string, string, ...any)) {
	if g := m.Spec.GitOps; g != nil && g.Engine == EngineFlux && g.Destination == DestinationAPIServer {
		report("spec.gitops.destination", "Flux reaches a cluster through its kubeconfig Secret, not its API server URL; use destination: name (Secret <cluster>-kubeconfig)")
	}
}
