package render

import (
	"meshc.dev/meshc/mesh"
)

// istiodEnv is the env of the primary's istiod, in order: what the
// IstioOperator sets as values.pilot.env and the istiod chart's values as
// env, from this one list so the two install paths cannot drift.
func istiodEnv(p *mesh.Placement) []mesh.EnvVar {
	var env []mesh.EnvVar
	if h := p.CustomHost(); h != "" {
		env = append(env, mesh.EnvVar{Name: "ISTIOD_CUSTOM_HOST", Value: h, Comment: []string{
			"Remotes call the injection webhook at this name; istiod's serving",
			"certificate must carry it.",
		}})
	}
	if p.Mesh.MultiRoot() {
		env = append(env, mesh.EnvVar{Name: "ISTIO_MULTIROOT_MESH", Value: "true", Comment: []string{
			"istiod trusts and hands out the roots of meshConfig.caCertificates.",
		}})
	}
	if p.Mesh.AmbientMultiNetwork() {
		env = append(env, mesh.EnvVar{Name: "AMBIENT_ENABLE_MULTI_NETWORK", Value: "true", Comment: []string{
			"Ambient across networks: ztunnels reach other networks' workloads",
			"through their east-west gateways. Never in a sidecar mesh, whose",
			"sidecars would lose their remote endpoints (istio/istio#61713).",
		}})
	}
	if p.UsesIstioCSR() {
		env = append(env, mesh.EnvVar{Name: "ENABLE_CA_SERVER", Value: "false", Comment: []string{
			"istio-csr signs workload certificates: istiod is no CA.",
		}})
	}
	return env
}
