package mesh

// EnvVar is one environment variable meshc sets on a primary's istiod, with
// the comment that says why.
type EnvVar struct {
	Name, Value string
	Comment     []string
}

// ProxyMetadata is meshConfig.defaultConfig.proxyMetadata of every control
// plane, in order: the environment every sidecar, gateway and VM of the
// mesh starts with. The IstioOperators and the istiod chart's values render
// it (mesh-services.tmpl), and each VM's files start from it, as Istio's
// generator copies the control plane's proxyMetadata into cluster.env and
// mesh.yaml: one list, so no proxy of the mesh misses a setting.
func (m *Mesh) ProxyMetadata() []EnvVar {
	var md []EnvVar
	switch {
	case m.DNSProxy():
		md = append(md, EnvVar{Name: "ISTIO_META_DNS_CAPTURE", Value: "true", Comment: []string{
			"Sidecars answer DNS for the mesh's services, so a cluster resolves",
			"services it does not run (spec.serviceResolution: dns-proxy).",
		}})
	case len(m.ImportingPeers()) > 0:
		md = append(md, EnvVar{Name: "ISTIO_META_DNS_CAPTURE", Value: "true", Comment: []string{
			"Sidecars answer DNS for the hosts imported from peers, which no",
			"cluster of this mesh runs (at the address istiod allocates).",
		}})
	}
	if len(m.ImportingPeers()) > 0 && istioChange(ChangeIPAutoallocate).Affects(m.IstioMinor()) {
		md = append(md, EnvVar{Name: "ISTIO_META_DNS_AUTO_ALLOCATE", Value: "true", Comment: []string{
			"Before Istio 1.25 istiod gives the imported hosts no address, and the",
			"DNS proxy answers only hosts with one: sidecars allocate them.",
		}})
	}
	if m.MultiRoot() {
		md = append(md, EnvVar{Name: "PROXY_CONFIG_XDS_AGENT", Value: "true", Comment: []string{
			"Sidecars take the roots of trust istiod hands out beside its own",
			"(ProxyConfig over xDS), so they update without a restart.",
		}})
	}
	return md
}
