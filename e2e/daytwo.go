package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// userObjects are what a user made in each cluster, that no plan may touch:
// a namespace with a Service, and a Secret without meshc's label in
// istio-system, where change plans delete.
var userObjects = []struct{ path, body string }{
	{"/api/v1/namespaces/team-a", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}`},
	{"/api/v1/namespaces/team-a/services/billing", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"billing","namespace":"team-a"},"spec":{"ports":[{"port":8080}]}}`},
	{"/api/v1/namespaces/istio-system/secrets/team-a-credentials", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"team-a-credentials","namespace":"istio-system"},"stringData":{"password":"not-a-real-one"}}`},
}

// CreateUserObjects makes the user's objects in every cluster and returns
// their identity (UID and resourceVersion) by cluster and path.
func CreateUserObjects(f *Fleet) (map[string]string, error) {
	for _, c := range f.Clusters {
		for _, o := range userObjects {
			if err := apply(c.Kube, o.path, o.body); err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
		}
	}
	return userObjectIDs(f)
}

func userObjectIDs(f *Fleet) (map[string]string, error) {
	ids := map[string]string{}
	for _, c := range f.Clusters {
		for _, o := range userObjects {
			var obj Object
			if err := c.Kube.Get(o.path, &obj); err != nil {
				if NotFound(err) {
					continue
				}
				return nil, err
			}
			ids[c.Name+" "+o.path] = obj.Metadata.UID + "/" + obj.Metadata.ResourceVersion
		}
	}
	return ids, nil
}

// CheckUserObjects: every user object is there, the same object, unchanged.
func CheckUserObjects(f *Fleet, before map[string]string) error {
	after, err := userObjectIDs(f)
	if err != nil {
		return err
	}
	var errs []string
	for k, v := range before {
		switch a, ok := after[k]; {
		case !ok:
			errs = append(errs, k+": deleted")
		case a != v:
			errs = append(errs, fmt.Sprintf("%s: changed (uid/resourceVersion %s, was %s)", k, a, v))
		}
	}
	sort.Strings(errs)
	return joinErrs(errs)
}

// manifestObject is one object of a rendered manifests/ directory.
type manifestObject struct {
	Cluster, Resource, Namespace, Name string
}

func (o manifestObject) String() string {
	return fmt.Sprintf("%s: %s %s/%s", o.Cluster, o.Resource, o.Namespace, o.Name)
}

// renderedObjects lists the objects of every cluster's manifests/ in a
// render output; namespaces are left out (a plan never deletes one).
func renderedObjects(out string) (map[string]manifestObject, error) {
	files, err := filepath.Glob(filepath.Join(out, "*", "manifests", "*.yaml"))
	if err != nil {
		return nil, err
	}
	objs := map[string]manifestObject{}
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		cluster := filepath.Base(filepath.Dir(filepath.Dir(file)))
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			var o Object
			if err := yaml.Unmarshal(doc, &o); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if o.Kind == "" || o.Kind == "Namespace" {
				continue
			}
			res := strings.ToLower(o.Kind)
			if g, v, ok := strings.Cut(o.APIVersion, "/"); ok {
				res += "." + v + "." + g
			}
			mo := manifestObject{Cluster: cluster, Resource: res, Namespace: o.Metadata.Namespace, Name: o.Metadata.Name}
			objs[mo.String()] = mo
		}
	}
	return objs, nil
}

// CheckServersHold: after a change to the mesh rendered in out (from the
// mesh rendered in old), the servers hold every object the new mesh renders
// and none the old one rendered and the new one does not; every primary has
// a remote secret for exactly the other clusters; a cluster that left runs
// no Istio.
func CheckServersHold(ctx context.Context, r *Rehearsal, e *Expectations, old, out string) error {
	want, err := renderedObjects(filepath.Join(r.Dir, out))
	if err != nil {
		return err
	}
	was, err := renderedObjects(filepath.Join(r.Dir, old))
	if err != nil {
		return err
	}
	var errs []string
	for _, o := range want {
		if err := r.getObject(o); err != nil {
			errs = append(errs, fmt.Sprintf("%s: missing after the change: %v", o, err))
		}
	}
	for k, o := range was {
		if _, kept := want[k]; kept {
			continue
		}
		if err := r.getObject(o); err == nil {
			errs = append(errs, fmt.Sprintf("%s: the new mesh does not render it and it is still there", o))
		}
	}
	inMesh := map[string]bool{}
	for _, c := range e.Clusters() {
		inMesh[c] = true
	}
	for _, p := range e.Primaries() {
		var l struct {
			Items []Object `json:"items"`
		}
		if err := r.Fleet.Clusters[p].Kube.Get("/api/v1/namespaces/istio-system/secrets?labelSelector=istio%2FmultiCluster%3Dtrue", &l); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		var got, wantSecrets []string
		for _, s := range l.Items {
			got = append(got, s.Metadata.Name)
		}
		for _, c := range e.Clusters() {
			if c != p {
				wantSecrets = append(wantSecrets, "istio-remote-secret-"+c)
			}
		}
		sort.Strings(got)
		sort.Strings(wantSecrets)
		if strings.Join(got, ",") != strings.Join(wantSecrets, ",") {
			errs = append(errs, fmt.Sprintf("%s: remote secrets %v, want %v", p, got, wantSecrets))
		}
	}
	for name, c := range r.Fleet.Clusters {
		if inMesh[name] {
			continue
		}
		if err := waitDeploymentsGone(ctx, c.Kube, "/apis/apps/v1/namespaces/istio-system/deployments", name+" left the mesh: the Deployments in istio-system"); err != nil {
			errs = append(errs, err.Error())
		}
		var whs struct {
			Items []Object `json:"items"`
		}
		if err := c.Kube.Get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", &whs); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, w := range whs.Items {
			if strings.Contains(w.Metadata.Name, "istio") {
				errs = append(errs, fmt.Sprintf("%s left the mesh and still has webhook %s", name, w.Metadata.Name))
			}
		}
	}
	sort.Strings(errs)
	return joinErrs(errs)
}

func (r *Rehearsal) getObject(o manifestObject) error {
	c := r.Fleet.Clusters[o.Cluster]
	if c == nil {
		return fmt.Errorf("no cluster %s", o.Cluster)
	}
	args := []string{"--context=" + c.Context, "get", o.Resource, o.Name, "-o", "name"}
	if o.Namespace != "" {
		args = append(args, "-n", o.Namespace)
	}
	cmd := exec.Command("kubectl", args...)
	cmd.Env = append(os.Environ(), r.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s", strings.TrimSpace(string(out)))
	}
	return nil
}

// waitDeploymentsGone waits until the Deployments listed at path are gone.
// istioctl deletes in the foreground, and the gateway Deployments istiod
// made go when the garbage collector follows their Gateway: either way a
// Deployment stays, marked for deletion, until the collector has removed its
// ReplicaSets and pods, which takes longer than the plan on a busy machine.
func waitDeploymentsGone(ctx context.Context, k *Kube, path, what string) error {
	return waitFor(ctx, 2*time.Minute, what+" deleted", func() error {
		var deps struct {
			Items []Object `json:"items"`
		}
		if err := k.Get(path, &deps); err != nil {
			return err
		}
		var left []string
		for _, d := range deps.Items {
			s := d.Metadata.Namespace + "/" + d.Metadata.Name
			if d.Metadata.DeletionTimestamp != "" {
				s += " (marked for deletion)"
			}
			left = append(left, s)
		}
		if len(left) > 0 {
			return fmt.Errorf("Deployment %s remains", strings.Join(left, ", "))
		}
		return nil
	})
}
