package e2e

import (
	"slices"
	"testing"
)

// The capture check's answer, as bash -x traces it: the pods its first
// rounds saw (before istio-cni released the namespace) come before its
// message and do not count; after it, the one still captured, once.
func TestAmbientGuardListedPods(t *testing.T) {
	answer := `namespace/sample unlabeled
++ seq 60
+ left='pod/sample/helloworld-5cf4dcc69d-lb88f
pod/sample/ratings-cache-d6c7b9cb8-55vrx'
+ sleep 2
+ left=pod/sample/captured-by-pod-label
+ '[' -z pod/sample/captured-by-pod-label ']'
+ echo 'plan: cluster cluster3 leaves the ambient mesh, but these pods are still in its data plane: uninstalling ztunnel and istio-cni now would cut them off.'
plan: cluster cluster3 leaves the ambient mesh, but these pods are still in its data plane: uninstalling ztunnel and istio-cni now would cut them off.
+ echo pod/sample/captured-by-pod-label
pod/sample/captured-by-pod-label
+ exit 1`
	if got, want := guardListedPods(answer, ambientGuardMark), []string{capturedName}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}
