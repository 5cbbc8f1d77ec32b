package conformance

import (
	"fmt"
	"path/filepath"
	"slices"

	meshconfig "istio.io/api/mesh/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"meshc.dev/meshc/mesh"
	"meshc.dev/meshc/render"
)

// What Istio's ambient data plane is made of at the pinned commit: the
// DaemonSets its cni and ztunnel charts (or istioctl's ambient profile)
// install, and the east-west gateway the ambient multicluster guide applies
// (samples/multicluster/gen-eastwest-gateway.sh --ambient).
const (
	ztunnelDaemonSet   = "ztunnel"
	cniDaemonSet       = "istio-cni-node"
	ambientGatewayName = "istio-eastwestgateway"
	ambientGatewayCls  = "istio-east-west"
	hboneProtocol      = "HBONE"
	hbonePort          = 15008
	tlsTerminateMode   = "gateway.istio.io/tls-terminate-mode"
)

// checkAmbient checks, on a primary once its installs are generated, the
// data plane the Mesh asks for, with every expected value from the Mesh:
// in an ambient mesh, ztunnel and the node agent run, ztunnel names the
// cluster and its network, istiod runs ambient and, across networks,
// AMBIENT_ENABLE_MULTI_NETWORK, and the mesh config makes Services
// labelled istio.io/global global; in a sidecar mesh, none of them, and
// never the multi-network flag, which drops the sidecars' remote endpoints
// (istio/istio#61713).
func (v *clusterCheck) checkAmbient() {
	if v.installFailed || v.cluster.Role != mesh.RolePrimary {
		return
	}
	dir, controlPlane, _, _, _ := v.installFiles()
	rel := dir + "/" + controlPlane
	// The file that installs each DaemonSet: the chart's values on the Helm
	// path, the control plane's IstioOperator on istioctl's.
	from := map[string]string{ztunnelDaemonSet: rel, cniDaemonSet: rel}
	if v.mesh.UsesHelm() {
		from = map[string]string{ztunnelDaemonSet: dir + "/" + render.ZtunnelValuesFile, cniDaemonSet: dir + "/" + render.CNIValuesFile}
	}
	ambient := v.mesh.Ambient()
	for _, ds := range []string{ztunnelDaemonSet, cniDaemonSet} {
		var d appsv1.DaemonSet
		err := typed(v.installed, "DaemonSet", ds, &d)
		switch {
		case ambient && err != nil:
			v.failf(from[ds], "dataPlane ambient, but the installs run no DaemonSet %s: %v", ds, err)
		case !ambient && err == nil:
			v.failf(from[ds], "dataPlane sidecar, but the installs run DaemonSet %s", ds)
		case ambient && ds == ztunnelDaemonSet:
			env := containerEnv(d.Spec.Template.Spec, "istio-proxy")
			v.expect(from[ds], "ztunnel env ISTIO_META_CLUSTER_ID", env["ISTIO_META_CLUSTER_ID"], v.cluster.Name)
			v.expect(from[ds], "ztunnel env NETWORK", env["NETWORK"], v.cluster.Network)
		}
	}
	env := v.istiodEnv()
	if env == nil {
		return // checkPrimary reports the missing istiod
	}
	want := map[bool]string{true: "true"}
	v.expect(rel, "istiod env PILOT_ENABLE_AMBIENT", env["PILOT_ENABLE_AMBIENT"], want[ambient])
	v.expect(rel, "istiod env AMBIENT_ENABLE_MULTI_NETWORK", env["AMBIENT_ENABLE_MULTI_NETWORK"], want[ambient && v.mesh.MultiNetwork()])
	if !ambient {
		return
	}
	mc, err := meshConfig(v.installed, v.mesh.Spec.Istio.Revision)
	if err != nil {
		v.fail(rel, err)
		return
	}
	if !globalByLabel(mc) {
		v.failf(rel, "mesh config serviceScopeConfigs: no GLOBAL scope for Services labelled %s=true, which the plan and the stub Services set", mesh.GlobalLabel)
	}
}

// globalByLabel reports whether the mesh config scopes every Service
// labelled istio.io/global=true (in any namespace) global.
func globalByLabel(mc *meshconfig.MeshConfig) bool {
	for _, s := range mc.GetServiceScopeConfigs() {
		if s.GetScope() != meshconfig.MeshConfig_ServiceScopeConfigs_GLOBAL || len(s.GetNamespaceSelector().GetMatchLabels())+len(s.GetNamespaceSelector().GetMatchExpressions()) > 0 {
			continue
		}
		sel := s.GetServicesSelector()
		if sel.GetMatchLabels()[mesh.GlobalLabel] == "true" {
			return true
		}
		for _, e := range sel.GetMatchExpressions() {
			if e.GetKey() == mesh.GlobalLabel && e.GetOperator() == "In" && slices.Contains(e.GetValues(), "true") {
				return true
			}
		}
	}
	return false
}

// checkAmbientGateway checks an ambient primary's east-west gateway, as the
// guide writes it, against the cluster the Mesh declares: a Gateway of
// class istio-east-west labelled with the cluster's network, whose one
// listener carries HBONE on 15008 and terminates it with Istio's mTLS.
func (v *clusterCheck) checkAmbientGateway() {
	declared := v.mesh.Ambient() && v.cluster.Role == mesh.RolePrimary && v.cluster.EastWestGateway != nil
	if !declared {
		return // checkArtifacts reports a file no row gives the cluster
	}
	rel := render.ManifestsDir + "/" + render.AmbientGatewayFile
	objs, err := Decode(filepath.Join(v.root, v.file(rel)))
	if err != nil {
		v.fail(rel, err)
		return
	}
	var gw *gatewayv1.Gateway
	for _, o := range objs {
		if g, ok := o.(*gatewayv1.Gateway); ok && g.Name == ambientGatewayName && g.Namespace == "istio-system" {
			gw = g
		}
	}
	if gw == nil {
		v.failf(rel, "no Gateway istio-system/%s, the ambient east-west gateway of %s", ambientGatewayName, v.cluster.Name)
		return
	}
	v.expect(rel, "Gateway gatewayClassName", string(gw.Spec.GatewayClassName), ambientGatewayCls)
	v.expect(rel, "Gateway label "+networkLabel, gw.Labels[networkLabel], v.cluster.Network)
	if len(gw.Spec.Listeners) != 1 {
		v.failf(rel, "Gateway has %d listeners, want the one HBONE listener", len(gw.Spec.Listeners))
		return
	}
	l := gw.Spec.Listeners[0]
	v.expect(rel, "listener", fmt.Sprintf("%s %d %s", l.Name, l.Port, l.Protocol), fmt.Sprintf("mesh %d %s", hbonePort, hboneProtocol))
	mode, opt := "", ""
	if l.TLS != nil {
		if l.TLS.Mode != nil {
			mode = string(*l.TLS.Mode)
		}
		opt = string(l.TLS.Options[tlsTerminateMode])
	}
	v.expect(rel, "listener tls.mode", mode, string(gatewayv1.TLSModeTerminate))
	v.expect(rel, "listener tls option "+tlsTerminateMode, opt, "ISTIO_MUTUAL")
}
