package e2e

import (
	"reflect"
	"sort"
	"testing"
)

// The objects a render's manifests/ hold, as kubectl names their resources;
// namespaces are left out, as change plans never delete them.
func TestRenderedObjects(t *testing.T) {
	objs, err := renderedObjects("../golden/primary-remote-multi-network")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k := range objs {
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{
		"cluster1: gateway.v1.networking.istio.io istio-system/cross-network-gateway",
		"cluster1: gateway.v1.networking.istio.io istio-system/istiod-gateway",
		"cluster1: virtualservice.v1.networking.istio.io istio-system/istiod-vs",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
