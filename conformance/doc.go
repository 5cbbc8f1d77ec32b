// Package conformance checks meshc's rendered output with Istio's own code,
// in process, at the Istio commit pinned in this module's go.mod.
//
// Golden files prove only that meshc's output did not change; this package
// proves Istio accepts it. Verify takes a Mesh and the directory meshc
// rendered it into and, for every cluster:
//
//   - runs each IstioOperator in install/ through Istio's manifest generation
//     (what `istioctl manifest generate -f` and `istioctl install -f` do),
//     strictly: an error or a warning is a finding; on the Helm path, renders
//     Istio's base, istiod and gateway charts with each values file in helm/
//     (RenderChart), strictly: a value the chart does not define is a finding;
//   - checks that the generated objects carry the topology the Mesh asks for:
//     mesh ID, cluster name and network in the mesh config and in the env of
//     an injected sidecar, the east-west gateway Service and its network label,
//     externalIstiod on primaries serving remotes, and a remote's injection
//     webhook resolving to its primary's istiod;
//   - runs every other file (manifests/, remote-access/, remote-secrets/)
//     through `istioctl validate`, decodes every object strictly against its
//     Kubernetes or Istio API type, and checks it against what the installs
//     generate: Gateways select installed gateways, VirtualServices route to
//     installed Services, remote secrets hold kubeconfigs istiod's loader
//     accepts, the reader role grants what Istio's own does.
//
// VerifyBehaviour then checks that the mesh works: it builds each primary's
// istiod, with Istio's own discovery code, from what the clusters hold once
// the rendered plan has run plus a sample service in every cluster, and
// requires every sidecar and east-west gateway to be sent the endpoints the
// Mesh promises. README.md says what each check reads and how long it takes.
//
// VerifyGitOps checks, for a Mesh with spec.gitops, the gitops/ tree: that
// it builds with kustomize, that every object decodes against its engine's
// API (Flux's Go types, Argo CD's and External Secrets' CRD schemas), and
// that its references and order are the plan's.
//
// istio.io/istio is a very heavy dependency, so this package lives in its own
// Go module (conformance/go.mod); the meshc module never imports it.
package conformance
