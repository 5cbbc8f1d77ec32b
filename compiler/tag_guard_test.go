package compiler_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/internal/fakecluster"
)

// A change that drops a tag no namespace of the Mesh selects any more: a
// namespace the Mesh does not list, or a pod labelled by its own manifest,
// may still select it, and only the tag's webhook injects them. The plan
// stops before the webhook goes and names what selects it; with nothing
// left, it deletes the webhook.
func TestDroppedTagStillSelected(t *testing.T) {
	webhook := fakecluster.Key("mutatingwebhookconfiguration.admissionregistration.k8s.io", "", "istio-revision-tag-canary")
	labelled := map[string]any{"istio.io/rev": "canary"}
	for _, tc := range []struct {
		name, key, want string
	}{
		{"an unlisted namespace", fakecluster.Key("namespace", "", "legacy"), "namespace/legacy"},
		{"a pod of its own label", fakecluster.Key("pod", "team", "batch-1"), "pod/batch-1"},
		{"nothing", "", ""},
	} {
		got, out, err := changeAfter(t, "tag-removed", func(s fakecluster.State) {
			if tc.key == "" {
				return
			}
			name := tc.key[strings.LastIndexAny(tc.key, " /")+1:]
			s.Cluster("cluster2").Objects[tc.key] = fakecluster.Object{Doc: map[string]any{"metadata": map[string]any{"name": name, "labels": labelled}}}
		})
		stopped := tc.want != ""
		if (err != nil) != stopped {
			t.Errorf("%s: the plan stopped: %v, want %v\n%s", tc.name, err, stopped, out)
		}
		if said := strings.Contains(out, "plan: tag canary is still selected in cluster cluster2") && strings.Contains(out, tc.want); said != stopped {
			t.Errorf("%s: the plan names %q: %v, want %v\n%s", tc.name, tc.want, said, stopped, out)
		}
		if _, stays := got.Cluster("cluster2").Objects[webhook]; stays != stopped {
			t.Errorf("%s: the tag's webhook in cluster2 stays: %v, want %v\n%s", tc.name, stays, stopped, out)
		}
	}
}
