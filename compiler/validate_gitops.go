package compiler

// The checks of spec.gitops: rules MC060-MC062 of Rules.

func checkGitOpsNeedsHelm(m *Mesh, report func(string, string, ...any)) {
	if m.Spec.GitOps != nil && !m.UsesHelm() {
		report("spec.gitops", "gitops needs installer: helm (installer is %q); Argo CD and Flux install Istio's charts, not IstioOperator files", m.Spec.Installer)
	}
}

func checkGitOpsDestinationWithoutAPIServer(m *Mesh, report func(string, string, ...any)) {
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
