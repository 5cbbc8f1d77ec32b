package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// pod is the part of a Pod the istiod stand-in reads: what a kubelet would
// need to run istiod's container.
type pod struct {
	Object
	Spec struct {
		NodeName           string      `json:"nodeName"`
		ServiceAccountName string      `json:"serviceAccountName"`
		Containers         []container `json:"containers"`
		Volumes            []volume    `json:"volumes"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
		PodIP string `json:"podIP"`
	} `json:"status"`
}

type container struct {
	Name         string   `json:"name"`
	Args         []string `json:"args"`
	Env          []envVar `json:"env"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
		ResourceFieldRef *struct {
			Resource string `json:"resource"`
		} `json:"resourceFieldRef"`
		ConfigMapKeyRef *keyRef `json:"configMapKeyRef"`
		SecretKeyRef    *keyRef `json:"secretKeyRef"`
	} `json:"valueFrom"`
}

type keyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional bool   `json:"optional"`
}

type volume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name     string `json:"name"`
		Optional bool   `json:"optional"`
	} `json:"configMap"`
	Secret *struct {
		SecretName string `json:"secretName"`
		Optional   bool   `json:"optional"`
	} `json:"secret"`
}

type podList struct {
	Items []pod `json:"items"`
}

// Istiod is one primary's istiod, run on the host by the stand-in kubelet.
type Istiod struct {
	Cluster   string
	Revision  string // "default" for an unnamed control plane
	ServiceIP string // istiod's Service IP: the webhooks, xDS (15010) and secure xDS (15012) listen here
	Debug     string // http://127.0.0.1:PORT: /debug/clusterz and friends
	Proc      *Proc
}

// XDS is the plain-text xDS address a proxy of this primary's clusters
// connects to in the harness.
func (i *Istiod) XDS() string { return i.ServiceIP + ":15010" }

// startIstiod runs the container "discovery" of istiod's pod on the host,
// as a kubelet would: its args and env from the pod (fieldRefs resolved,
// configMap and secret keys read), its configMap and secret volumes written
// under a directory that stands for the container's root (istiod reads
// them at relative paths), a token of its own ServiceAccount (so the RBAC
// the plan installed is what it runs with), and its listeners bound to its
// Service's IP instead of the pod's, since nothing routes a Service IP to a
// simulated pod.
func (f *Fleet) startIstiod(ctx context.Context, c *Cluster, p *pod, revision, serviceIP string) (*Istiod, error) {
	var ctr *container
	for i := range p.Spec.Containers {
		if p.Spec.Containers[i].Name == "discovery" {
			ctr = &p.Spec.Containers[i]
		}
	}
	if ctr == nil {
		return nil, fmt.Errorf("%s: pod %s has no container discovery", c.Name, p.Metadata.Name)
	}
	// One directory and log per revision: a canary runs two istiods.
	name := IstiodService(revision)
	root := filepath.Join(f.Dir, c.Name, name)
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	ns := p.Metadata.Namespace
	for _, m := range ctr.VolumeMounts {
		for _, v := range p.Spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			if err := f.mountVolume(c, ns, v, filepath.Join(root, m.MountPath)); err != nil {
				return nil, err
			}
		}
	}
	env, err := f.containerEnv(c, p, ctr)
	if err != nil {
		return nil, err
	}
	var tok struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	req := map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
		"spec": map[string]any{"expirationSeconds": 7200}}
	sa := fmt.Sprintf("/api/v1/namespaces/%s/serviceaccounts/%s/token", url.PathEscape(ns), url.PathEscape(p.Spec.ServiceAccountName))
	if err := c.Kube.Do("POST", sa, "application/json", req, &tok); err != nil {
		return nil, fmt.Errorf("%s: token for istiod's ServiceAccount: %w", c.Name, err)
	}
	// The service-account volume every container gets.
	saDir := filepath.Join(root, "var", "run", "secrets", "kubernetes.io", "serviceaccount")
	if err := os.MkdirAll(saDir, 0o700); err != nil {
		return nil, err
	}
	for name, val := range map[string]string{"token": tok.Status.Token, "namespace": ns} {
		if err := os.WriteFile(filepath.Join(saDir, name), []byte(val), 0o600); err != nil {
			return nil, err
		}
	}
	if err := copyFile(filepath.Join(f.Dir, c.Name, "ca.crt"), filepath.Join(saDir, "ca.crt")); err != nil {
		return nil, err
	}
	kc := filepath.Join(root, "kubeconfig")
	kcData := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: %q, certificate-authority: %q}\nusers:\n- name: istiod\n  user: {token: %q}\ncontexts:\n- name: c\n  context: {cluster: c, user: istiod}\ncurrent-context: c\n",
		c.Server, c.CAFile, tok.Status.Token)
	if err := os.WriteFile(kc, []byte(kcData), 0o600); err != nil {
		return nil, err
	}
	debug := freePort()
	args := append([]string{"nice", "-n", "10", f.Tools.Bin("istio", "pilot-discovery")}, ctr.Args...)
	args = append(args, "--kubeconfig", kc,
		"--httpAddr", "127.0.0.1:"+debug, "--httpsAddr", serviceIP+":443",
		"--grpcAddr", serviceIP+":15010", "--secureGRPCAddr", serviceIP+":15012",
		"--monitoringAddr", "127.0.0.1:"+freePort(), "--ctrlz_address", "127.0.0.1", "--ctrlz_port", freePort(),
		"--meshConfig", "./etc/istio/config/mesh", "--networksConfig", "./etc/istio/config/meshNetworks")
	// The pod's KUBECONFIG names a remote cluster's secret this istiod does
	// not have; it reads its own cluster through the token above.
	env = append(env, "KUBECONFIG="+kc)
	proc, err := f.Procs.Start(c.Name+"-"+name, env, root, args...)
	if err != nil {
		return nil, err
	}
	i := &Istiod{Cluster: c.Name, Revision: revision, ServiceIP: serviceIP, Debug: "http://127.0.0.1:" + debug, Proc: proc}
	if err := waitFor(ctx, 5*time.Minute, c.Name+" "+name+" ready", func() error {
		if done, err := proc.Exited(); done {
			return fmt.Errorf("istiod exited: %v (log: %s)", err, proc.Log)
		}
		return httpGet(i.Debug+"/ready", nil)
	}); err != nil {
		return nil, err
	}
	return i, nil
}

// mountVolume writes a configMap or secret volume's keys as files under dir.
// Other volumes (emptyDir, projected tokens) become empty directories.
func (f *Fleet) mountVolume(c *Cluster, ns string, v volume, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var data map[string]string
	switch {
	case v.ConfigMap != nil:
		var cm struct {
			Data map[string]string `json:"data"`
		}
		err := c.Kube.Get(fmt.Sprintf("/api/v1/namespaces/%s/configmaps/%s", ns, v.ConfigMap.Name), &cm)
		if err != nil && !(NotFound(err) && v.ConfigMap.Optional) {
			return fmt.Errorf("%s: volume %s: %w", c.Name, v.Name, err)
		}
		data = cm.Data
	case v.Secret != nil:
		var s struct {
			Data map[string]string `json:"data"`
		}
		err := c.Kube.Get(fmt.Sprintf("/api/v1/namespaces/%s/secrets/%s", ns, v.Secret.SecretName), &s)
		if err != nil && !(NotFound(err) && v.Secret.Optional) {
			return fmt.Errorf("%s: volume %s: %w", c.Name, v.Name, err)
		}
		data = map[string]string{}
		for k, b64 := range s.Data {
			b, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return err
			}
			data[k] = string(b)
		}
	}
	for k, val := range data {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(val), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// containerEnv resolves a container's env as the kubelet does, except
// resource limits: GOMAXPROCS and friends get 1, to share the machine.
func (f *Fleet) containerEnv(c *Cluster, p *pod, ctr *container) ([]string, error) {
	var env []string
	for _, e := range ctr.Env {
		if e.Name == "KUBECONFIG" {
			continue
		}
		val := e.Value
		if vf := e.ValueFrom; vf != nil {
			switch {
			case vf.FieldRef != nil:
				switch vf.FieldRef.FieldPath {
				case "metadata.name":
					val = p.Metadata.Name
				case "metadata.namespace":
					val = p.Metadata.Namespace
				case "spec.serviceAccountName":
					val = p.Spec.ServiceAccountName
				case "status.podIP":
					val = p.Status.PodIP
				default:
					return nil, fmt.Errorf("%s: env %s: fieldRef %s not supported by the stand-in kubelet", c.Name, e.Name, vf.FieldRef.FieldPath)
				}
			case vf.ResourceFieldRef != nil && vf.ResourceFieldRef.Resource == "limits.cpu":
				val = "1"
			case vf.ResourceFieldRef != nil:
				continue // no limit on the host
			case vf.ConfigMapKeyRef != nil, vf.SecretKeyRef != nil:
				return nil, fmt.Errorf("%s: env %s: configMap and secret references not supported by the stand-in kubelet", c.Name, e.Name)
			}
		}
		env = append(env, e.Name+"="+val)
	}
	sort.Strings(env)
	return env, nil
}

// istiodPods returns, by revision (the pods' istio.io/rev label, "default"
// for an unnamed control plane), the pod of each istiod Deployment in
// istio-system that is bound to the node and not being deleted: the newest,
// so that during a rollout restart the new pod gets the istiod (and becomes
// ready) and the old one's stops.
func istiodPods(k *Kube) (map[string]*pod, error) {
	var l podList
	if err := k.Get("/api/v1/namespaces/istio-system/pods?labelSelector="+url.QueryEscape("app=istiod"), &l); err != nil {
		return nil, err
	}
	pods := map[string]*pod{}
	for i := range l.Items {
		p := &l.Items[i]
		rev := p.Metadata.Labels["istio.io/rev"]
		if rev == "" {
			rev = "default"
		}
		if p.Metadata.DeletionTimestamp != "" || p.Spec.NodeName == "" {
			continue
		}
		if q := pods[rev]; q == nil || newer(p, q) {
			pods[rev] = p
		}
	}
	return pods, nil
}

// newer: p was created after q (RFC 3339 in UTC, to the second, compares as
// text), or in the same second with a greater name, so the choice is stable.
func newer(p, q *pod) bool {
	if p.Metadata.CreationTimestamp != q.Metadata.CreationTimestamp {
		return p.Metadata.CreationTimestamp > q.Metadata.CreationTimestamp
	}
	return p.Metadata.Name > q.Metadata.Name
}

// markReady is the kubelet's report for istiod's pod once istiod answers
// /ready: running, ready, with an address of the cluster's pod range.
func markReady(c *Cluster, p *pod) error {
	now := time.Now().UTC().Format(time.RFC3339)
	// One address per revision's pod (a canary runs two).
	h := fnv.New32a()
	h.Write([]byte(p.Metadata.Labels["istio.io/rev"]))
	ip := fmt.Sprintf("10.%d.255.%d", 100+c.Index, 2+h.Sum32()%250)
	var conds []map[string]string
	for _, t := range []string{"Initialized", "PodScheduled", "ContainersReady", "Ready"} {
		conds = append(conds, map[string]string{"type": t, "status": "True", "lastTransitionTime": now})
	}
	var statuses []map[string]any
	for _, ctr := range p.Spec.Containers {
		statuses = append(statuses, map[string]any{"name": ctr.Name, "ready": true, "started": true, "restartCount": 0,
			"image": "e2e", "imageID": "", "state": map[string]any{"running": map[string]string{"startedAt": now}}})
	}
	patch := map[string]any{"status": map[string]any{"phase": "Running", "podIP": ip, "podIPs": []map[string]string{{"ip": ip}},
		"hostIP": "127.0.0.1", "startTime": now, "conditions": conds, "containerStatuses": statuses}}
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/status", p.Metadata.Namespace, p.Metadata.Name)
	return c.Kube.Do("PATCH", path, "application/strategic-merge-patch+json", patch, nil)
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}
