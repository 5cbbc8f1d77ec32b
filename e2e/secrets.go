package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// placeholder is one line of a declarative remote secret's header:
// "#   ${MESHC_CLUSTER2_TOKEN}  kubectl ... | base64 -d".
var placeholder = regexp.MustCompile(`^#\s+\$\{(MESHC_[A-Z0-9_]+)\}\s+(.*)$`)

// ApplyDeclarativeRemoteSecrets installs the remote secrets the GitOps way
// (spec.remoteSecrets: declarative): the reader RBAC of remote-access/ in
// every cluster that has it, then each primary's remote-secrets/ with its
// placeholders filled by running the commands its header gives (the API
// server's URL, which the header cannot know, from the fleet). They replace
// the secrets istioctl made: the same names.
func ApplyDeclarativeRemoteSecrets(ctx context.Context, r *Rehearsal, out string, e *Expectations) error {
	for _, c := range e.Clusters() {
		file := filepath.Join(r.Dir, out, c, "remote-access", "istio-reader.yaml")
		if _, err := os.Stat(file); err != nil {
			continue
		}
		if err := r.kubectl(nil, "--context="+r.Fleet.Clusters[c].Context, "apply", "-f", file); err != nil {
			return err
		}
	}
	for _, p := range e.Primaries() {
		files, _ := filepath.Glob(filepath.Join(r.Dir, out, p, "remote-secrets", "*.yaml"))
		if len(files) == 0 {
			return fmt.Errorf("%s: no declarative remote secrets in %s", p, filepath.Join(out, p, "remote-secrets"))
		}
		for _, file := range files {
			filled, err := r.fillPlaceholders(ctx, file)
			if err != nil {
				return err
			}
			if err := r.kubectl(filled, "--context="+r.Fleet.Clusters[p].Context, "apply", "-f", "-"); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
	}
	return nil
}

var unfilled = regexp.MustCompile(`\$\{MESHC_[A-Z0-9_]+\}`)

// fillPlaceholders runs each placeholder's command from the file's header
// and substitutes its output; a placeholder for an API server URL gets the
// fleet's.
func (r *Rehearsal) fillPlaceholders(ctx context.Context, file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		m := placeholder.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name, how := m[1], m[2]
		if strings.HasSuffix(name, "_API_SERVER") {
			for _, c := range r.Fleet.Clusters {
				if name == "MESHC_"+envName(c.Name)+"_API_SERVER" {
					values[name] = c.Server
				}
			}
			continue
		}
		// The header's command, as a user would paste it; it must wait for
		// the token controller to fill the Secret.
		var val string
		err := waitFor(ctx, time.Minute, name+" from "+filepath.Base(file), func() error {
			cmd := exec.Command("bash", "-c", "set -o pipefail; "+how)
			cmd.Env = append(os.Environ(), r.Env()...)
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s: %v", how, err)
			}
			if val = strings.TrimSpace(string(out)); val == "" {
				return fmt.Errorf("%s: empty", how)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		values[name] = val
	}
	s := os.Expand(string(data), func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return "${" + k + "}"
	})
	// The header's "Replace each ${MESHC_...}" names no placeholder.
	if left := unfilled.FindAllString(s, -1); len(left) > 0 {
		return nil, fmt.Errorf("%s: placeholders %v left after filling %v", file, left, keys(values))
	}
	return []byte(s), nil
}

func envName(cluster string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(cluster))
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// kubectl runs kubectl with the rehearsal's environment and stdin.
func (r *Rehearsal) kubectl(stdin []byte, args ...string) error {
	cmd := exec.Command("kubectl", args...)
	cmd.Env = append(os.Environ(), r.Env()...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	out, err := cmd.CombinedOutput()
	fmt.Fprintf(r.Log, "$ kubectl %s\n%s", strings.Join(args, " "), out)
	if err != nil {
		return fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// RotateRemoteSecret gives primary's remote secret for source a new reader
// token (a bound token of the same ServiceAccount) and revokes the old
// one: the long-lived token Secret is deleted, so the API server refuses
// the old token from then on.
func RotateRemoteSecret(r *Rehearsal, primary, source string) error {
	src, p := r.Fleet.Clusters[source], r.Fleet.Clusters[primary]
	var tok struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	req := map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": map[string]any{"expirationSeconds": 7200}}
	if err := src.Kube.Do("POST", "/api/v1/namespaces/istio-system/serviceaccounts/istio-reader-service-account/token", "application/json", req, &tok); err != nil {
		return fmt.Errorf("%s: new reader token: %w", source, err)
	}
	name := "istio-remote-secret-" + source
	var sec struct {
		Data map[string]string `json:"data"`
	}
	path := "/api/v1/namespaces/istio-system/secrets/" + name
	if err := p.Kube.Get(path, &sec); err != nil {
		return fmt.Errorf("%s: %w", primary, err)
	}
	raw, err := base64.StdEncoding.DecodeString(sec.Data[source])
	if err != nil {
		return err
	}
	var kc map[string]any
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return fmt.Errorf("%s/%s: %w", primary, name, err)
	}
	users, _ := kc["users"].([]any)
	if len(users) != 1 {
		return fmt.Errorf("%s/%s: want one user in the kubeconfig, have %d", primary, name, len(users))
	}
	users[0].(map[string]any)["user"] = map[string]any{"token": tok.Status.Token}
	rotated, err := yaml.Marshal(kc)
	if err != nil {
		return err
	}
	patch := map[string]any{"data": map[string]string{source: base64.StdEncoding.EncodeToString(rotated)}}
	if err := p.Kube.Do("PATCH", path, "application/merge-patch+json", patch, nil); err != nil {
		return fmt.Errorf("%s: %w", primary, err)
	}
	old := "/api/v1/namespaces/istio-system/secrets/istio-reader-service-account-istio-remote-secret-token"
	if err := src.Kube.Do("DELETE", old, "", nil, nil); err != nil && !NotFound(err) {
		return fmt.Errorf("%s: revoke the old token: %w", source, err)
	}
	return nil
}
