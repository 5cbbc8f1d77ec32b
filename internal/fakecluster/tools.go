package fakecluster

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Main runs tool (kubectl, istioctl or helm) with args as a plan calls it,
// against the state in the directory $MESHC_FAKE_STATE, and returns its exit
// code.
func Main(tool string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cl, err := parse(args)
	if err == nil {
		t := &run{cmd: cl, stdin: stdin, stdout: stdout, dir: os.Getenv(StateVar)}
		switch tool {
		case "kubectl":
			err = t.kubectl()
		case "istioctl":
			err = t.istioctl()
		case "helm":
			err = t.helm()
		default:
			err = fmt.Errorf("fakecluster: no tool %q", tool)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// cmdline is a command's words and flags.
type cmdline struct {
	words []string
	flags map[string]string
}

// Flags that take a value; every other flag is a switch. A flag not in
// either list is an error.
var (
	valued = map[string]bool{"--context": true, "-n": true, "--namespace": true, "-f": true, "-k": true,
		"-l": true, "--revision": true, "--field-selector": true, "-o": true, "--for": true, "--timeout": true, "--audience": true,
		"--duration": true, "--name": true, "--server": true, "--version": true, "--kube-context": true,
		"--field-manager": true, "--set": true}
	switches = map[string]bool{"-A": true, "--server-side": true, "--local": true, "--ignore-not-found": true, "-y": true,
		"--purge": true, "--install": true, "--wait": true, "--force-update": true, "--overwrite": true}
)

func parse(args []string) (cmdline, error) {
	c := cmdline{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			c.words = append(c.words, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case valued[name] && hasValue:
			c.flags[name] = value
		case valued[name] && i+1 < len(args):
			i++
			c.flags[name] = args[i]
		case switches[name] && !hasValue:
			c.flags[name] = "true"
		default:
			return c, fmt.Errorf("error: unknown flag: %s", a)
		}
	}
	return c, nil
}

// only fails when the command has a flag outside allowed.
func (c cmdline) only(allowed ...string) error {
	for f := range c.flags {
		if !slices.Contains(allowed, f) {
			return fmt.Errorf("error: %s does not take %s here", strings.Join(c.words, " "), f)
		}
	}
	return nil
}

type run struct {
	cmd    cmdline
	stdin  io.Reader
	stdout io.Writer
	dir    string
}

// change loads the state, lets f change the cluster of context, and saves
// it.
func (r *run) change(context string, f func(*Cluster) error) error {
	if context == "" {
		return errors.New("error: no --context: a plan names the context of every command")
	}
	if r.dir == "" {
		return errors.New("fakecluster: " + StateVar + " is not set")
	}
	s, err := Load(r.dir)
	if err != nil {
		return err
	}
	if err := f(s.Cluster(context)); err != nil {
		return err
	}
	return s.Save(r.dir)
}

func (r *run) kubectl() error {
	c := r.cmd
	if len(c.words) == 0 {
		return errors.New("error: no command")
	}
	ns := c.flags["-n"]
	switch c.words[0] {
	case "apply":
		return r.apply()
	case "label":
		return r.label()
	case "create":
		if err := c.only("--context", "-n", "--audience", "--duration"); err != nil {
			return err
		}
		if len(c.words) != 3 || c.words[1] != "token" {
			return errors.New("error: the plans create only tokens")
		}
		fmt.Fprintf(r.stdout, "token of %s/%s\n", ns, c.words[2])
		return nil
	case "get":
		if c.flags["-l"] != "" || strings.HasPrefix(c.flags["-o"], "jsonpath={range .items") {
			return r.list()
		}
		if err := c.only("--context", "-n", "-o", "--ignore-not-found"); err != nil {
			return err
		}
		if c.flags["--ignore-not-found"] != "" && (len(c.words) != 3 || c.words[1] != "service") {
			return errors.New("error: the model knows --ignore-not-found on get service only")
		}
		switch {
		case len(c.words) == 3 && c.words[1] == "secret":
			return r.getSecretData()
		case len(c.words) == 2 && strings.Contains(c.words[1], "/"):
			return r.getObject()
		case strings.Contains(c.words[1], ","):
			return nil // the model runs no workloads, and lists nothing
		}
		if len(c.words) == 3 && c.words[1] == "service" {
			return r.getService()
		}
		fmt.Fprintln(r.stdout, "192.0.2.99")
		return nil
	case "rollout":
		if err := c.only("--context", "-n", "--timeout"); err != nil {
			return err
		}
		return nil
	case "delete":
		return r.delete()
	case "wait":
		return r.wait()
	}
	return fmt.Errorf("error: unknown command %q", c.words[0])
}

// apply stores each object it reads (and issues what a cert-manager
// Certificate asks for).
func (r *run) apply() error {
	c := r.cmd
	ns := c.flags["-n"]
	if err := c.only("--context", "-n", "-f", "-k", "--server-side", "--field-manager"); err != nil {
		return err
	}
	docs, err := r.read()
	if err != nil {
		return err
	}
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		for _, d := range docs {
			k, err := keyOf(d, cmp.Or(ns, "default"))
			if err != nil {
				return err
			}
			cl.Objects[k] = Object{Doc: d}
			fmt.Fprintf(r.stdout, "%s configured\n", k)
			if resourceOf(d) == certificateResource {
				if err := r.issue(cl, d, cmp.Or(ns, "default")); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// getService prints the Service's name if the cluster holds it, and fails
// as kubectl does if not (prints nothing with --ignore-not-found).
func (r *run) getService() error {
	c := r.cmd
	k := Key("service", cmp.Or(c.flags["-n"], "default"), c.words[2])
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		o, ok := cl.Objects[k]
		if !ok {
			if c.flags["--ignore-not-found"] != "" {
				return nil
			}
			return fmt.Errorf("Error from server (NotFound): services %q not found", c.words[2])
		}
		switch c.flags["-o"] {
		default:
			fmt.Fprintln(r.stdout, c.words[2])
		case `jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}/{.spec.type}/{.spec.selector}`:
			spec, _ := o.Doc["spec"].(map[string]any)
			// The API server defaults the type.
			typ, _ := spec["type"].(string)
			sel := ""
			if m, _ := spec["selector"].(map[string]any); len(m) > 0 {
				data, err := json.Marshal(m)
				if err != nil {
					return err
				}
				sel = string(data)
			}
			fmt.Fprintf(r.stdout, "%s/%s/%s", o.Labels()["app.kubernetes.io/managed-by"], cmp.Or(typ, "ClusterIP"), sel)
		}
		return nil
	})
}

// labelObject sets and removes labels on a Service or namespace the
// cluster holds, as kubectl label [--overwrite] KIND NAME KEY=VALUE... KEY-...
// does: setting a label it has needs --overwrite; removing one it lacks is
// no error (kubectl warns).
func (r *run) labelObject() error {
	c := r.cmd
	if err := c.only("--context", "-n", "--overwrite"); err != nil {
		return err
	}
	if len(c.words) < 4 || c.words[1] != "service" && c.words[1] != "namespace" {
		return errors.New("error: the plans label only services and namespaces: label [--overwrite] KIND NAME KEY=VALUE|KEY-...")
	}
	res, err := resolve(c.words[1])
	if err != nil {
		return err
	}
	k := Key(res, cmp.Or(c.flags["-n"], "default"), c.words[2])
	if clusterScoped[res] {
		k = Key(res, "", c.words[2])
	}
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		o, ok := cl.Objects[k]
		if !ok {
			return fmt.Errorf("Error from server (NotFound): %s %q not found", res, c.words[2])
		}
		for _, kv := range c.words[3:] {
			if key, ok := strings.CutSuffix(kv, "-"); ok && !strings.Contains(kv, "=") {
				o.SetLabel(key, "")
				continue
			}
			key, value, ok := strings.Cut(kv, "=")
			if !ok {
				return errors.New("error: label needs KEY=VALUE or KEY-")
			}
			if _, has := o.Labels()[key]; has && c.flags["--overwrite"] == "" {
				return fmt.Errorf("error: '%s' already has a value, and --overwrite is false", key)
			}
			o.SetLabel(key, value)
		}
		fmt.Fprintf(r.stdout, "%s/%s labeled\n", c.words[1], c.words[2])
		return nil
	})
}

// label sets a label on the objects on stdin, as kubectl label --local does.
func (r *run) label() error {
	c := r.cmd
	if c.flags["--local"] == "" {
		return r.labelObject()
	}
	if err := c.only("--local", "-f", "-o"); err != nil {
		return err
	}
	if c.flags["--local"] == "" || c.flags["-f"] != "-" || c.flags["-o"] != "yaml" || len(c.words) != 2 {
		return errors.New("error: the plans label only with --local -f - -o yaml KEY=VALUE")
	}
	key, value, ok := strings.Cut(c.words[1], "=")
	if !ok {
		return errors.New("error: label needs KEY=VALUE")
	}
	docs, err := decode(r.stdin)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return errors.New("error: no objects passed to label")
	}
	for _, d := range docs {
		Object{Doc: d}.SetLabel(key, value)
	}
	return encode(r.stdout, docs)
}

// read returns the documents of -f FILE, -f - or -k DIR.
func (r *run) read() ([]map[string]any, error) {
	c := r.cmd
	if dir := c.flags["-k"]; dir != "" {
		f, err := os.Open(filepath.Join(dir, "kustomization.yaml"))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		k, err := decode(f)
		if err != nil || len(k) != 1 {
			return nil, fmt.Errorf("error: %s: not one kustomization", dir)
		}
		var docs []map[string]any
		res, _ := k[0]["resources"].([]any)
		for _, p := range res {
			data, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(p)))
			if err != nil {
				return nil, err
			}
			d, err := decode(bytes.NewReader(data))
			if err != nil {
				return nil, err
			}
			docs = append(docs, d...)
		}
		return docs, nil
	}
	in := r.stdin
	if p := c.flags["-f"]; p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("error: the path %q does not exist", p)
		}
		defer f.Close()
		in = f
	}
	docs, err := decode(in)
	if err == nil && len(docs) == 0 {
		err = errors.New("error: no objects passed to apply")
	}
	return docs, err
}

// delete is kubectl delete RESOURCE[,RESOURCE...] [NAME] with selectors.
func (r *run) delete() error {
	c := r.cmd
	if err := c.only("--context", "-n", "-l", "--field-selector", "--ignore-not-found"); err != nil {
		return err
	}
	if len(c.words) < 2 || len(c.words) > 3 {
		return errors.New("error: delete RESOURCE [NAME]")
	}
	var resources []string
	for _, a := range strings.Split(c.words[1], ",") {
		res, err := resolve(a)
		if err != nil {
			return err
		}
		resources = append(resources, res)
	}
	name := ""
	if len(c.words) == 3 {
		name = c.words[2]
	}
	labels, err := selector(c.flags["-l"])
	if err != nil {
		return err
	}
	secretType := ""
	if f := c.flags["--field-selector"]; f != "" {
		for _, term := range strings.Split(f, ",") {
			switch k, v, _ := strings.Cut(term, "="); k {
			case "metadata.name":
				name = v
			case "type":
				secretType = v
			default:
				return fmt.Errorf("error: field selector %q: the model knows metadata.name= and type= only", f)
			}
		}
	}
	if name == "" && len(labels) == 0 {
		return errors.New("error: resource(s) were provided, but no name or selector")
	}
	ns := cmp.Or(c.flags["-n"], "default")
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		var gone []string
		for k, o := range cl.Objects {
			res, rest, _ := strings.Cut(k, " ")
			if !slices.Contains(resources, res) {
				continue
			}
			objNS, objName, namespaced := strings.Cut(rest, "/")
			if !namespaced {
				objName, objNS = objNS, ""
			}
			if namespaced && objNS != ns || name != "" && objName != name || !matches(o.Labels(), labels) || secretType != "" && o.Doc["type"] != secretType {
				continue
			}
			gone = append(gone, k)
		}
		sort.Strings(gone)
		for _, k := range gone {
			delete(cl.Objects, k)
			fmt.Fprintf(r.stdout, "%s deleted\n", k)
		}
		switch {
		case len(gone) > 0:
		case len(labels) > 0:
			fmt.Fprintln(r.stdout, "No resources found")
		case c.flags["--ignore-not-found"] == "":
			return fmt.Errorf("Error from server (NotFound): %s %q not found", c.words[1], name)
		}
		return nil
	})
}

// requirement is one term of a label selector: key=value, key (exists),
// or key in (a,b).
type requirement struct {
	key    string
	values []string // nil: the key exists
}

// selector parses the label selectors the plans use.
func selector(s string) ([]requirement, error) {
	var out []requirement
	for s != "" {
		var term string
		if i := strings.Index(s, " in ("); i >= 0 && !strings.Contains(s[:i], ",") {
			end := strings.Index(s, ")")
			if end < i {
				return nil, fmt.Errorf("error: label selector %q: unterminated set", s)
			}
			out = append(out, requirement{key: s[:i], values: strings.Split(s[i+len(" in ("):end], ",")})
			s = strings.TrimPrefix(s[end+1:], ",")
			continue
		}
		term, s, _ = strings.Cut(s, ",")
		k, v, ok := strings.Cut(term, "=")
		switch {
		case k == "" || strings.ContainsAny(k, " !()"):
			return nil, fmt.Errorf("error: label selector term %q: the model knows key=value, key and key in (a,b) only", term)
		case ok:
			out = append(out, requirement{key: k, values: []string{v}})
		default:
			out = append(out, requirement{key: k})
		}
	}
	return out, nil
}

func matches(labels map[string]string, want []requirement) bool {
	for _, r := range want {
		v, ok := labels[r.key]
		if !ok || r.values != nil && !slices.Contains(r.values, v) {
			return false
		}
	}
	return true
}

// annotationFilter reads the jsonpath filter the plans list pods by.
var annotationFilter = regexp.MustCompile(`^jsonpath=\{range \.items\[\?\(@\.metadata\.annotations\.([^=]+)=="([^"]*)"\)\]\}`)

// list is kubectl get RESOURCE[,RESOURCE] -l SELECTOR [-A] -o name.
func (r *run) list() error {
	c := r.cmd
	if err := c.only("--context", "-n", "-l", "-o", "-A"); err != nil {
		return err
	}
	annotation, value := "", ""
	if o := c.flags["-o"]; o != "name" {
		// jsonpath={range .items[?(@.metadata.annotations.KEY=="VALUE")]}...
		m := annotationFilter.FindStringSubmatch(o)
		if m == nil {
			return fmt.Errorf("error: -o %q: the model knows -o name and the plans' annotation filter only", o)
		}
		annotation, value = strings.ReplaceAll(m[1], `\.`, "."), m[2]
	}
	if len(c.words) != 2 {
		return errors.New("error: the plans list one resource kind")
	}
	res, err := resolve(c.words[1])
	if err != nil {
		return err
	}
	want, err := selector(c.flags["-l"])
	if err != nil {
		return err
	}
	ns := cmp.Or(c.flags["-n"], "default")
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		var names []string
		for k, o := range cl.Objects {
			kr, rest, _ := strings.Cut(k, " ")
			objNS, objName, namespaced := strings.Cut(rest, "/")
			if !namespaced {
				objName = objNS
			}
			if kr != res || namespaced && c.flags["-A"] == "" && objNS != ns || !matches(o.Labels(), want) {
				continue
			}
			if annotation != "" {
				meta, _ := o.Doc["metadata"].(map[string]any)
				if ann, _ := meta["annotations"].(map[string]any); ann[annotation] != value {
					continue
				}
				names = append(names, strings.SplitN(res, ".", 2)[0]+"/"+objNS+"/"+objName)
				continue
			}
			names = append(names, strings.SplitN(res, ".", 2)[0]+"/"+objName)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintln(r.stdout, n)
		}
		return nil
	})
}

// wait is kubectl wait KIND/NAME --for=jsonpath={.metadata.labels.KEY}=VALUE
// --timeout=0s: checked once.
func (r *run) wait() error {
	c := r.cmd
	if err := c.only("--context", "-n", "--for", "--timeout"); err != nil {
		return err
	}
	if c.flags["--for"] == "condition=Ready" && strings.HasPrefix(c.words[len(c.words)-1], certificateResource+"/") {
		return r.waitIssued()
	}
	if c.flags["--timeout"] != "0s" || len(c.words) != 2 {
		return errors.New("error: the plans wait once (--timeout=0s) on one object")
	}
	cond, ok := strings.CutPrefix(c.flags["--for"], "jsonpath={.metadata.labels.")
	expr, want, ok2 := strings.Cut(cond, "}=")
	if !ok || !ok2 {
		return fmt.Errorf("error: --for %q: the model knows jsonpath={.metadata.labels.KEY}=VALUE only", c.flags["--for"])
	}
	key := strings.ReplaceAll(expr, `\.`, ".")
	kind, name, _ := strings.Cut(c.words[1], "/")
	res, err := resolve(kind)
	if err != nil {
		return err
	}
	k := Key(res, cmp.Or(c.flags["-n"], "default"), name)
	if clusterScoped[res] {
		k = Key(res, "", name)
	}
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		o, ok := cl.Objects[k]
		if !ok {
			return fmt.Errorf("Error from server (NotFound): %s not found", c.words[1])
		}
		if got := o.Labels()[key]; got != want {
			return fmt.Errorf("error: timed out waiting for the condition on %s", c.words[1])
		}
		fmt.Fprintf(r.stdout, "%s condition met\n", c.words[1])
		return nil
	})
}

func (r *run) istioctl() error {
	c := r.cmd
	if len(c.words) == 3 && c.words[0] == "tag" && c.words[1] == "set" {
		return r.tagSet(c.words[2])
	}
	if len(c.words) != 1 {
		return errors.New("error: istioctl COMMAND")
	}
	switch c.words[0] {
	case "install":
		if err := c.only("-y", "--context", "-f"); err != nil {
			return err
		}
		docs, err := r.read()
		if err != nil {
			return err
		}
		if len(docs) != 1 || docs[0]["kind"] != "IstioOperator" {
			return errors.New("error: install takes one IstioOperator")
		}
		return r.change(c.flags["--context"], func(cl *Cluster) error {
			return installIOP(cl, docs[0])
		})
	case "uninstall":
		if err := c.only("-y", "--context", "--purge", "--revision"); err != nil {
			return err
		}
		if rev := c.flags["--revision"]; rev != "" {
			return r.change(c.flags["--context"], func(cl *Cluster) error {
				// istioctl finds a revision by its injection webhooks.
				if !slices.ContainsFunc(slices.Collect(maps.Values(cl.Objects)), func(o Object) bool {
					return o.Doc["kind"] == "MutatingWebhookConfiguration" && o.Labels()["istio.io/rev"] == rev
				}) {
					return errors.New("Error: could not find target revision")
				}
				for k, o := range cl.Objects {
					// The base component (CRDs, the default validator) is
					// no revision's: uninstall --revision spares it.
					if strings.HasPrefix(o.InstalledBy, "istioctl ") && o.InstalledBy != "istioctl base" && o.Labels()["istio.io/rev"] == rev {
						delete(cl.Objects, k)
					}
				}
				return nil
			})
		}
		if c.flags["--purge"] == "" {
			return errors.New("error: the plans uninstall with --purge or --revision")
		}
		return r.change(c.flags["--context"], func(cl *Cluster) error {
			for k, o := range cl.Objects {
				if strings.HasPrefix(o.InstalledBy, "istioctl ") {
					delete(cl.Objects, k)
				}
			}
			return nil
		})
	case "create-remote-secret":
		if err := c.only("--context", "--name", "--server"); err != nil {
			return err
		}
		name := c.flags["--name"]
		if c.flags["--context"] == "" || name == "" {
			return errors.New("error: create-remote-secret needs --context and --name")
		}
		fmt.Fprintf(r.stdout, "# This file is autogenerated, do not edit.\n")
		return encode(r.stdout, []map[string]any{{
			"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "istio-remote-secret-" + name, "namespace": "istio-system",
				"labels":      map[string]any{"istio/multiCluster": "true"},
				"annotations": map[string]any{"networking.istio.io/cluster": name}},
			"stringData": map[string]any{name: "kubeconfig of context " + c.flags["--context"] + " " + c.flags["--server"]},
		}})
	}
	return fmt.Errorf("error: unknown command %q", c.words[0])
}

// tagSet is istioctl tag set TAG --revision REV --overwrite: the tag's
// webhook points at the revision.
func (r *run) tagSet(tag string) error {
	c := r.cmd
	if err := c.only("--context", "--revision", "--overwrite"); err != nil {
		return err
	}
	if c.flags["--revision"] == "" || c.flags["--overwrite"] == "" {
		return errors.New("error: the plans set tags with --revision and --overwrite")
	}
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		setTag(cl, tag, c.flags["--revision"], "")
		return nil
	})
}

// setTag makes the webhook of tag point at rev, as istioctl does.
func setTag(cl *Cluster, tag, rev, by string) {
	doc := map[string]any{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
		"metadata": map[string]any{"name": "istio-revision-tag-" + tag, "labels": map[string]any{"istio.io/tag": tag, "istio.io/rev": rev}}}
	k := Key(mwcResource, "", "istio-revision-tag-"+tag)
	if was, ok := cl.Objects[k]; ok && by == "" {
		by = was.InstalledBy // moving a tag does not change who owns it
	}
	cl.Objects[k] = Object{Doc: normalize(doc).(map[string]any), InstalledBy: by}
}

// installIOP creates what an IstioOperator installs: istiod for a control
// plane, each enabled gateway's deployment, service and service account
// (labelled as its IstioOperator says). Like istioctl since 1.24 it keeps no
// record of the IstioOperator itself: the install is its objects, which
// carry what was installed (the spec) and the IstioOperator's name. It
// replaces what an earlier install of the same name created, as istioctl
// prunes.
func installIOP(cl *Cluster, iop map[string]any) error {
	meta, _ := iop["metadata"].(map[string]any)
	name := fmt.Sprint(meta["name"])
	spec, _ := iop["spec"].(map[string]any)
	// istioctl prunes by name and revision: another revision's install of
	// the same name stays.
	rev, _ := spec["revision"].(string)
	rev = cmp.Or(rev, "default")
	by := "istioctl " + name
	for k, o := range cl.Objects {
		if o.InstalledBy == by && o.Labels()["istio.io/rev"] == rev {
			delete(cl.Objects, k)
		}
	}
	// values.defaultRevision is no part of istiod's objects: it points the
	// base chart's default validating webhook, one per cluster, which the
	// last install sets.
	installed := maps.Clone(spec)
	if values, ok := spec["values"].(map[string]any); ok {
		values = maps.Clone(values)
		def, _ := values["defaultRevision"].(string)
		delete(values, "defaultRevision")
		if def != "" && spec["profile"] != "empty" {
			cl.Objects[Key(vwcResource, "", "istiod-default-validator")] = Object{Doc: normalize(map[string]any{
				"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
				"metadata": map[string]any{"name": "istiod-default-validator", "labels": map[string]any{"istio.io/rev": def}},
			}).(map[string]any), InstalledBy: "istioctl base"}
		}
		installed["values"] = values
	}
	create := func(resource, obj string, labels map[string]any) {
		all := map[string]any{"install.operator.istio.io/owning-resource": name, "istio.io/rev": rev}
		for k, v := range labels {
			all[k] = v
		}
		doc := map[string]any{"metadata": map[string]any{"name": obj, "namespace": "istio-system", "labels": all,
			"annotations": map[string]any{"installed": canonical(installed)}}}
		cl.Objects[Key(resource, "istio-system", obj)] = Object{Doc: normalize(doc).(map[string]any), InstalledBy: by}
	}
	if spec["profile"] != "empty" {
		// istioctl gives the first revision it installs the default tag.
		if _, ok := cl.Objects[Key(mwcResource, "", "istio-revision-tag-default")]; !ok {
			setTag(cl, "default", rev, by)
		}
		istiod, injector := "istiod", "istio-sidecar-injector"
		if rev != "default" {
			istiod += "-" + rev
			injector += "-" + rev
		}
		create("deployment.apps", istiod, map[string]any{"app": "istiod"})
		cl.Objects[Key(mwcResource, "", injector)] = Object{Doc: normalize(map[string]any{
			"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
			"metadata": map[string]any{"name": injector, "labels": map[string]any{"install.operator.istio.io/owning-resource": name, "istio.io/rev": rev}},
		}).(map[string]any), InstalledBy: by}
	}
	comps, _ := spec["components"].(map[string]any)
	gws, _ := comps["ingressGateways"].([]any)
	for _, g := range gws {
		gw, _ := g.(map[string]any)
		if gw["enabled"] != true {
			continue
		}
		labels, _ := gw["label"].(map[string]any)
		for _, res := range []string{"deployment.apps", "service", "serviceaccount"} {
			create(res, fmt.Sprint(gw["name"]), labels)
		}
	}
	return nil
}

func (r *run) helm() error {
	c := r.cmd
	if len(c.words) == 0 {
		return errors.New("error: helm COMMAND")
	}
	switch c.words[0] {
	case "repo":
		if err := c.only("--force-update"); err != nil {
			return err
		}
		if len(c.words) != 4 || c.words[1] != "add" {
			return errors.New("error: the plans only add repositories")
		}
		return nil
	case "upgrade":
		if err := c.only("--install", "--version", "--namespace", "--kube-context", "--wait", "-f", "--set"); err != nil {
			return err
		}
		if len(c.words) != 3 || c.flags["--install"] == "" || c.flags["--version"] == "" {
			return errors.New("error: the plans run upgrade --install RELEASE CHART --version V")
		}
		docs, err := r.read()
		if err != nil && !strings.Contains(err.Error(), "no objects") {
			return err
		}
		if set := c.flags["--set"]; set != "" {
			// A value given on the command line overrides the file's.
			k, v, ok := strings.Cut(set, "=")
			if !ok || strings.ContainsAny(k, ".,[") || strings.Contains(v, ",") {
				return fmt.Errorf("error: --set %q: the model knows one top-level KEY=VALUE only", set)
			}
			if len(docs) == 0 || docs[0] == nil {
				docs = []map[string]any{{}}
			}
			docs[0][k] = v
		}
		return r.change(c.flags["--kube-context"], func(cl *Cluster) error {
			cl.Installs["helm "+c.words[1]] = c.words[2] + "@" + c.flags["--version"] + " in " + c.flags["--namespace"] + ": " + canonical(docs)
			if c.words[2] == istioCSRChart {
				return r.installIstioCSR(cl, docs)
			}
			return nil
		})
	case "uninstall":
		if err := c.only("--namespace", "--kube-context", "--ignore-not-found"); err != nil {
			return err
		}
		if len(c.words) != 2 {
			return errors.New("error: uninstall RELEASE")
		}
		return r.change(c.flags["--kube-context"], func(cl *Cluster) error {
			k := "helm " + c.words[1]
			inst, ok := cl.Installs[k]
			if !ok && c.flags["--ignore-not-found"] == "" {
				return fmt.Errorf("Error: uninstall: Release not loaded: %s: release: not found", c.words[1])
			}
			if ok && !strings.HasSuffix(strings.Fields(inst)[2], c.flags["--namespace"]+":") {
				return fmt.Errorf("Error: uninstall: Release not loaded: %s: release: not found (in namespace %s)", c.words[1], c.flags["--namespace"])
			}
			delete(cl.Installs, k)
			for ok, o := range cl.Objects {
				if o.InstalledBy == k {
					delete(cl.Objects, ok)
				}
			}
			return nil
		})
	}
	return fmt.Errorf("error: unknown command %q", c.words[0])
}

// getObject is kubectl get RESOURCE/NAME: it fails when there is none.
func (r *run) getObject() error {
	c := r.cmd
	resource, name, _ := strings.Cut(c.words[1], "/")
	res, err := resolve(resource)
	if err != nil {
		return err
	}
	k := Key(res, cmp.Or(c.flags["-n"], "default"), name)
	if clusterScoped[res] {
		k = Key(res, "", name)
	}
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		if _, ok := cl.Objects[k]; !ok {
			return fmt.Errorf("Error from server (NotFound): %s %q not found", res, name)
		}
		fmt.Fprintln(r.stdout, c.words[1])
		return nil
	})
}
