package compiler

// EnvVar is one environment variable meshc sets on a primary's istiod, with
// the comment that says why.
type EnvVar struct {
	Name, Value string
	Comment     []string
}

// IstiodEnv is the env of the primary's istiod, in order: what the
// IstioOperator sets as values.pilot.env and the istiod chart's values as
// env, from this one list so the two install paths cannot drift.
func istiodEnv(p *Placement) []EnvVar {
	var env []EnvVar
	if h := p.CustomHost(); h != "" {
		env = append(env, EnvVar{Name: "ISTIOD_CUSTOM_HOST", Value: h, Comment: []string{
			"Remotes call the injection webhook at this name; istiod's serving",
			"certificate must carry it.",
		}})
	}
	if p.Mesh.Federated() {
		env = append(env, EnvVar{Name: "ISTIO_MULTIROOT_MESH", Value: "true", Comment: []string{
			"istiod trusts and hands out the peers' roots (meshConfig.caCertificates).",
		}})
	}
	return env
}
