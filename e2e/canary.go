package e2e

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// A canary upgrade's rehearsal (docs/e2e.md): before the change plan, a
// bare pod in each sample namespace of every cluster, injected by the old
// revision, which no rollout restart replaces. The plan's remove-revision
// guard must stop at it; while it stands, both revisions run. The harness
// then deletes the pods, as the guard's message asks, and runs the plan
// again to its end.

// pinnedName is the bare pod of a namespace.
func pinnedName(ns string) string { return "pinned-" + ns }

// CreatePinned makes the bare pods and waits until each runs, injected by
// its namespace's revision in e.
func CreatePinned(ctx context.Context, f *Fleet, e *Expectations) error {
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			k := f.Clusters[cl].Kube
			p := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":%q,"labels":{"app":"pinned"}},
"spec":{"containers":[{"name":"app","image":"registry.invalid/e2e/pinned:1"}]}}`, pinnedName(s.Namespace), s.Namespace)
			if err := apply(k, fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", s.Namespace, pinnedName(s.Namespace)), p); err != nil {
				return fmt.Errorf("%s: %w", cl, err)
			}
		}
	}
	return CheckPinned(ctx, f, e)
}

// CheckPinned: every bare pod still runs, injected by its namespace's
// revision in e (the old mesh's: nothing restarted it).
func CheckPinned(ctx context.Context, f *Fleet, e *Expectations) error {
	var errs []string
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			k := f.Clusters[cl].Kube
			err := waitFor(ctx, 2*time.Minute, fmt.Sprintf("%s: pod %s/%s running, injected by %s", cl, s.Namespace, pinnedName(s.Namespace), s.Revision), func() error {
				var p pod
				if err := k.Get(fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", s.Namespace, pinnedName(s.Namespace)), &p); err != nil {
					return err
				}
				if err := injectedBy(&p, s.Revision); err != nil {
					return err
				}
				if p.Status.Phase != "Running" {
					return fmt.Errorf("phase %s", p.Status.Phase)
				}
				return nil
			})
			if err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	return joinErrs(errs)
}

// DeletePinned deletes the bare pods, as the guard asks, and waits until
// they are gone.
func DeletePinned(ctx context.Context, f *Fleet, e *Expectations) error {
	for _, s := range e.Services {
		for _, cl := range s.Clusters {
			if err := deletePod(ctx, f.Clusters[cl], s.Namespace, pinnedName(s.Namespace)); err != nil {
				return err
			}
		}
	}
	return nil
}

// deletePod deletes a pod at once and waits until it is gone.
func deletePod(ctx context.Context, c *Cluster, ns, name string) error {
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", ns, name)
	if err := c.Kube.Do("DELETE", path+"?gracePeriodSeconds=0", "", nil, nil); err != nil && !NotFound(err) {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return waitFor(ctx, 2*time.Minute, c.Name+": "+path+" gone", func() error {
		if err := c.Kube.Get(path, nil); !NotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
}

// CheckGuardStopped: the change plan stopped in its remove-revision phase,
// on a cluster whose bare pods run the old revision, and the pods it lists
// as still running that revision are exactly those bare pods.
func CheckGuardStopped(planErr error, e *Expectations) error {
	var pe *PlanError
	if !errors.As(planErr, &pe) {
		return fmt.Errorf("the change plan ran to its end (or failed outside a step: %v); want it stopped by the remove-revision guard, as bare pods still run the old revision", planErr)
	}
	if !strings.Contains(pe.Step, "Remove the old revision") || len(pe.Clusters) == 0 {
		return fmt.Errorf("want the plan stopped by the remove-revision guard; it failed elsewhere: %w", pe)
	}
	cl := pe.Clusters[0]
	var want []string
	for _, s := range e.Services {
		if slices.Contains(s.Clusters, cl) {
			want = append(want, pinnedName(s.Namespace))
		}
	}
	got := guardListedPods(pe.Answer, "still selected or running")
	sort.Strings(want)
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("the remove-revision guard on %s lists pods %v, want the pods still injected by the old revision %v; its answer:\n%s", cl, got, want, indent(pe.Answer))
	}
	return nil
}

// guardListedPods are the names of the pods the guard's message lists
// (kubectl's "pod/<name>", or "pod/<namespace>/<name>"), from the lines
// after its message. bash's trace of the echo that prints the list repeats
// it, quoted: the quote is dropped and the names counted once.
func guardListedPods(answer, marker string) []string {
	var pods []string
	in := false
	for _, line := range strings.Split(answer, "\n") {
		switch {
		case strings.Contains(line, marker) && !strings.HasPrefix(line, traceMark):
			in = true
		case in && strings.HasPrefix(line, traceMark+"echo '"):
			line = strings.TrimPrefix(line, traceMark+"echo '")
			fallthrough
		case in && strings.HasPrefix(line, "pod/"):
			line = strings.TrimSuffix(line, "'")
			if !strings.HasPrefix(line, "pod/") {
				continue
			}
			if name := line[strings.LastIndex(line, "/")+1:]; !slices.Contains(pods, name) {
				pods = append(pods, name)
			}
		}
	}
	sort.Strings(pods)
	return pods
}

// CheckBothRevisions: every primary runs an istiod of each revision, both
// read every cluster of the mesh, synced.
func CheckBothRevisions(ctx context.Context, s *StandIns, e *Expectations, revisions ...string) error {
	var errs []string
	want := append([]string(nil), revisions...)
	sort.Strings(want)
	for _, p := range e.Primaries() {
		if err := converge(ctx, time.Minute, p+": revisions whose istiod runs", want, func() ([]string, error) { return s.Revisions(p), nil }); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, rev := range revisions {
		if err := CheckSynced(ctx, e, func(p string) *Istiod { return s.IstiodOf(p, rev) }); err != nil {
			errs = append(errs, fmt.Sprintf("revision %s: %v", rev, err))
		}
	}
	return joinErrs(errs)
}

// webhookConfig is the part of a MutatingWebhookConfiguration the checks
// read.
type webhookConfig struct {
	Object
	Webhooks []struct {
		Name         string `json:"name"`
		ClientConfig struct {
			Service *struct {
				Name, Namespace, Path string
			} `json:"service"`
		} `json:"clientConfig"`
	} `json:"webhooks"`
}

func webhookConfigs(k *Kube) ([]webhookConfig, error) {
	var l struct {
		Items []webhookConfig `json:"items"`
	}
	err := k.Get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", &l)
	return l.Items, err
}

// CheckTags: in every cluster, the tag webhooks are exactly the Mesh's
// tags, each labelled with and calling the istiod of the revision the Mesh
// points it at. Istio's `default` tag is not the Mesh's: istioctl makes it
// when it installs the first revision into a cluster, and it stays with
// that revision until that revision is uninstalled (CheckRevisionGone
// checks it went); docs/e2e.md says so.
func CheckTags(f *Fleet, e *Expectations) error {
	want := map[string]string{}
	for _, t := range e.Mesh.Spec.Istio.Tags {
		want[t.Name] = t.Revision
	}
	var errs []string
	for _, cl := range e.Clusters() {
		whs, err := webhookConfigs(f.Clusters[cl].Kube)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		got := map[string]string{}
		for _, w := range whs {
			tag := w.Metadata.Labels["istio.io/tag"]
			if tag == "" || tag == "default" {
				continue
			}
			rev := w.Metadata.Labels["istio.io/rev"]
			got[tag] = rev
			for _, h := range w.Webhooks {
				if svc := h.ClientConfig.Service; svc == nil || svc.Name != IstiodService(want[tag]) {
					errs = append(errs, fmt.Sprintf("%s: tag %s's webhook %s calls %+v, want Service %s", cl, tag, h.Name, svc, IstiodService(want[tag])))
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			errs = append(errs, fmt.Sprintf("%s: tags (tag: revision) %v, want %v", cl, got, want))
		}
	}
	return joinErrs(errs)
}

// CheckRevisionGone: no cluster of the mesh holds anything of revision
// old (a Deployment, a webhook configuration labelled with it, a webhook
// calling its istiod, its istiod Service) and no primary runs its istiod.
func CheckRevisionGone(ctx context.Context, f *Fleet, s *StandIns, e *Expectations, old string) error {
	var errs []string
	sel := "?labelSelector=" + "istio.io%2Frev%3D" + old
	for _, cl := range e.Clusters() {
		k := f.Clusters[cl].Kube
		if err := waitDeploymentsGone(ctx, k, "/apis/apps/v1/deployments"+sel, cl+": the Deployments of revision "+old); err != nil {
			errs = append(errs, err.Error())
		}
		whs, err := webhookConfigs(k)
		if err != nil {
			errs = append(errs, err.Error())
		}
		for _, w := range whs {
			if w.Metadata.Labels["istio.io/rev"] == old {
				errs = append(errs, fmt.Sprintf("%s: webhook configuration %s of revision %s remains", cl, w.Metadata.Name, old))
			}
			for _, h := range w.Webhooks {
				if svc := h.ClientConfig.Service; svc != nil && svc.Name == IstiodService(old) {
					errs = append(errs, fmt.Sprintf("%s: webhook %s/%s calls %s", cl, w.Metadata.Name, h.Name, svc.Name))
				}
			}
		}
		if err := k.Get("/api/v1/namespaces/istio-system/services/"+IstiodService(old), nil); !NotFound(err) {
			errs = append(errs, fmt.Sprintf("%s: Service istio-system/%s remains (%v)", cl, IstiodService(old), err))
		}
	}
	for _, p := range e.Primaries() {
		if err := waitFor(ctx, time.Minute, p+": istiod of revision "+old+" stopped", func() error {
			if s.IstiodOf(p, old) != nil {
				return fmt.Errorf("still running")
			}
			return nil
		}); err != nil {
			errs = append(errs, err.Error())
		}
	}
	return joinErrs(errs)
}
