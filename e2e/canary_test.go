package e2e

import (
	"reflect"
	"testing"
)

// The guard's answer holds bash's trace of the assignment that captured
// the list (a multi-line quoted string) before the message and the list:
// only the list counts, in either of kubectl's name formats.
func TestGuardListedPods(t *testing.T) {
	answer := `+ left='pod/istiod-1-30-79c48ddf79-jff5f
pod/istiod-1-30-79c48ddf79-jff5f'
+ echo 'plan: revision 1-30 still selected or running in cluster cluster1; move these to a tag of revision 1-31 and restart them, then run the plan again:'
plan: revision 1-30 still selected or running in cluster cluster1; move these to a tag of revision 1-31 and restart them, then run the plan again:
+ echo 'pod/shop/pinned-shop
pod/checkout/pinned-checkout'
pod/shop/pinned-shop
pod/checkout/pinned-checkout
mutatingwebhookconfiguration.admissionregistration.k8s.io/istio-revision-tag-default
+ exit 1`
	if got, want := guardListedPods(answer, "still selected or running"), []string{"pinned-checkout", "pinned-shop"}; !reflect.DeepEqual(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}
