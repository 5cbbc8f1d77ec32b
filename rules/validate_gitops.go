package rules

import (
	"regexp"
	"strings"

	"meshc.dev/meshc/diag"
	"meshc.dev/meshc/mesh"
)

// The checks of spec.gitops: rules MC060-MC063 and MC065 of Rules.

func checkGitOpsNeedsHelm(m *mesh.Mesh, report func(string, string, ...any)) {
	if m.Spec.GitOps != nil && !m.UsesHelm() {
		report("spec.gitops", "gitops needs installer: helm (installer is %q); Argo CD and Flux install Istio's charts, not IstioOperator files", m.Spec.Installer)
	}
}

func checkGitOpsDestinationWithoutAPIServer(m *mesh.Mesh, report func(string, string, ...any)) {
	g := m.Spec.GitOps
	if g == nil || g.Destination != mesh.DestinationAPIServer || g.Engine != mesh.EngineArgoCD {
		return
	}
	for i, c := range m.Spec.Clusters {
		if c.APIServer == "" {
			report(clusterPath(i, "name"), "cluster %q gives no apiServer, which gitops.destination: apiServer addresses it by; add apiServer or use destination: name", c.Name)
		}
	}
}

func checkFluxByAPIServer(m *mesh.Mesh, report func(string, string, ...any)) {
	if g := m.Spec.GitOps; g != nil && g.Engine == mesh.EngineFlux && g.Destination == mesh.DestinationAPIServer {
		report("spec.gitops.destination", "Flux reaches a cluster through its kubeconfig Secret, not its API server URL; use destination: name (Secret <cluster>-kubeconfig)")
	}
}

// argoGlob are the characters Argo CD's glob matching (gobwas/glob) reads
// as syntax. A leading '!' (deny) cannot occur: both values start with a
// scheme.
const argoGlob = "*?[]{}\\"

func checkArgocdGlob(m *mesh.Mesh, report func(string, string, ...any)) {
	g := m.Spec.GitOps
	if g == nil || g.Engine != mesh.EngineArgoCD {
		return
	}
	if i := strings.IndexAny(g.RepoURL, argoGlob); i >= 0 {
		report("spec.gitops.repoURL", "Argo CD reads the AppProject's sourceRepos as glob patterns, where %q is syntax: %s would let the project read other repositories, and not this one; give the repository by host name", g.RepoURL[i], diag.Quote(g.RepoURL))
	}
	if g.Destination != mesh.DestinationAPIServer {
		return
	}
	for i, c := range m.Spec.Clusters {
		if j := strings.IndexAny(c.APIServer, argoGlob); j >= 0 {
			report(clusterPath(i, "apiServer"), "Argo CD reads the AppProject's destinations as glob patterns, where %q is syntax: %s would let the project deploy to other clusters, and not to %q; give the API server by host name, or use destination: name", c.APIServer[j], diag.Quote(c.APIServer), c.Name)
		}
	}
}

// Argo CD's Git client resolves a revision that parses as a semantic version
// range (and not as one version) against the repository's tags before it
// looks for a branch of that name (resolveSemverRevision, Masterminds'
// constraint grammar). These match that grammar less what the schema keeps
// out of a revision already: whitespace, ~, ^ and *.
var (
	semverPart     = `v?([0-9]+|[xX])(\.([0-9]+|[xX])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`
	semverRangeAnd = regexp.MustCompile(`^(=|!=|>|<|>=|=>|<=|=<)?` + semverPart + `$`)
	semverVersion  = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
)

// argoReadsAsRange reports whether Argo CD would follow the highest tag in
// a range instead of the branch, tag or commit rev names.
func argoReadsAsRange(rev string) bool {
	if semverVersion.MatchString(rev) {
		return false
	}
	for _, alt := range strings.Split(rev, "||") {
		for _, part := range strings.Split(alt, ",") {
			if !semverRangeAnd.MatchString(part) {
				return false
			}
		}
	}
	return true
}

func checkArgocdRevisionRange(m *mesh.Mesh, report func(string, string, ...any)) {
	if g := m.Spec.GitOps; g != nil && g.Engine == mesh.EngineArgoCD && argoReadsAsRange(g.Revision) {
		report("spec.gitops.revision", "Argo CD reads %s as a semantic version range and follows the highest tag in it, not a branch of that name; give one branch, tag or commit", diag.Quote(g.Revision))
	}
}
