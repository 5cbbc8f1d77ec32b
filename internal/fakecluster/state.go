package fakecluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StateVar is the environment variable that names the directory the state
// is kept in.
const StateVar = "MESHC_FAKE_STATE"

const stateFile = "state.json"

// State is what each kube context holds, by context name.
type State map[string]*Cluster

// Cluster is what one kube context holds.
type Cluster struct {
	// Objects by Key.
	Objects map[string]Object `json:"objects"`
	// Installs are the Helm releases ("helm <release>"), with what was
	// installed (chart, version, namespace and values). An istioctl install
	// is only its objects, as in a real cluster.
	Installs map[string]string `json:"installs"`
}

// Object is one Kubernetes object.
type Object struct {
	Doc map[string]any `json:"doc"`
	// InstalledBy is the install that created the object ("istioctl
	// eastwest"); "" for an object applied by kubectl.
	InstalledBy string `json:"installedBy,omitempty"`
}

// Labels returns the object's metadata.labels.
func (o Object) Labels() map[string]string {
	out := map[string]string{}
	meta, _ := o.Doc["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	for k, v := range labels {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// SetLabel sets (or, with value "", removes) a label, as someone editing
// the object would.
func (o Object) SetLabel(key, value string) {
	meta, _ := o.Doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		o.Doc["metadata"] = meta
	}
	labels, _ := meta["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		meta["labels"] = labels
	}
	if value == "" {
		delete(labels, key)
		return
	}
	labels[key] = value
}

// Key is how a cluster files an object: its resource as kubectl names it
// (kind, lower case, and API group: "gateway.networking.istio.io",
// "service"), then namespace/name, or the name alone for cluster-scoped
// kinds.
func Key(resource, namespace, name string) string {
	if namespace == "" {
		return resource + " " + name
	}
	return resource + " " + namespace + "/" + name
}

// Load reads the state in dir; none yet is an empty state.
func Load(dir string) (State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return nil, err
	}
	s := State{}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile, err)
	}
	return s, nil
}

// Save writes the state into dir.
func (s State) Save(dir string) error {
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stateFile), data, 0o644)
}

// Cluster returns what context holds, creating it empty.
func (s State) Cluster(context string) *Cluster {
	c := s[context]
	if c == nil {
		c = &Cluster{Objects: map[string]Object{}, Installs: map[string]string{}}
		s[context] = c
	}
	return c
}

// clusterScoped are the kinds of objects without a namespace the plans
// apply or delete.
var clusterScoped = map[string]bool{"namespace": true, "clusterrole.rbac.authorization.k8s.io": true,
	"clusterrolebinding.rbac.authorization.k8s.io": true, "customresourcedefinition.apiextensions.k8s.io": true,
	mwcResource: true}

const (
	mwcResource = "mutatingwebhookconfiguration.admissionregistration.k8s.io"
	vwcResource = "validatingwebhookconfiguration.admissionregistration.k8s.io"
)

// shortNames are the resource names kubectl resolves without an API group,
// for the kinds the plans name that way. Anything else must name its group:
// "gateway" alone is ambiguous between Istio's and the Gateway API's.
var shortNames = map[string]string{
	"namespace": "namespace", "namespaces": "namespace", "pods": "pod", "mutatingwebhookconfigurations": mwcResource,
	"secret": "secret", "service": "service", "serviceaccount": "serviceaccount",
	"configmap": "configmap", "deployment": "deployment.apps", "role": "role.rbac.authorization.k8s.io",
	"rolebinding": "rolebinding.rbac.authorization.k8s.io", "poddisruptionbudget": "poddisruptionbudget.policy",
	"horizontalpodautoscaler": "horizontalpodautoscaler.autoscaling",
}

// resolve turns a resource as a command names it into its full name.
func resolve(arg string) (string, error) {
	if strings.Contains(arg, ".") {
		return arg, nil
	}
	if r, ok := shortNames[arg]; ok {
		return r, nil
	}
	return "", fmt.Errorf(`error: the server doesn't have a resource type %q (or it is ambiguous: name its API group)`, arg)
}

// resourceOf is the full resource name of a document's kind.
func resourceOf(doc map[string]any) string {
	r := strings.ToLower(fmt.Sprint(doc["kind"]))
	if group, _, ok := strings.Cut(fmt.Sprint(doc["apiVersion"]), "/"); ok {
		r += "." + group
	}
	return r
}

// keyOf files a document: its namespace is its own, or ns.
func keyOf(doc map[string]any, ns string) (string, error) {
	meta, _ := doc["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" || doc["kind"] == nil {
		return "", fmt.Errorf("error: object without kind or metadata.name")
	}
	r := resourceOf(doc)
	if clusterScoped[r] {
		return Key(r, "", name), nil
	}
	if n, _ := meta["namespace"].(string); n != "" {
		ns = n
	}
	return Key(r, ns, name), nil
}

// decode reads every document of a YAML stream, skipping empty ones and
// unwrapping a List.
func decode(r io.Reader) ([]map[string]any, error) {
	dec := yaml.NewDecoder(r)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("error: parsing YAML: %w", err)
		}
		if doc == nil {
			continue
		}
		if doc["kind"] == "List" {
			items, _ := doc["items"].([]any)
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					docs = append(docs, m)
				}
			}
			continue
		}
		docs = append(docs, normalize(doc).(map[string]any))
	}
}

// normalize makes a decoded document what it reads back as from JSON, so
// states compare equal however they were written.
func normalize(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return v
	}
	return out
}

// encode writes documents as a YAML stream.
func encode(w io.Writer, docs []map[string]any) error {
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		data, err := yaml.Marshal(d)
		if err != nil {
			return err
		}
		b.Write(data)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// canonical is a document as the tools take it: its data, without comments
// or formatting.
func canonical(doc any) string {
	data, _ := json.Marshal(doc)
	return string(data)
}
