package fakecluster

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The model's cert-manager: every cluster runs one (its CRDs and webhook
// are there), and it issues a Certificate as soon as it is applied, into
// the Secret spec.secretName with spec.secretTemplate's labels, whose
// ca.crt is the root it issues under. That root is the file $CARootVar
// names or, without it, the root-cert.pem next to the file the
// Certificate was applied from (meshc renders the mesh's root there): a
// test sets CARootVar to play an issuer that chains to another root.

// CARootVar names a PEM file: the root the model's cert-manager issues
// under.
const CARootVar = "MESHC_FAKE_CA_ROOT"

const certificateResource = "certificate.cert-manager.io"

// issue has the model's cert-manager issue Certificate doc into its Secret.
func (r *run) issue(cl *Cluster, doc map[string]any, ns string) error {
	rootFile := os.Getenv(CARootVar)
	if rootFile == "" {
		f := r.cmd.flags["-f"]
		if f == "" || f == "-" {
			return errors.New("fakecluster: cert-manager issues only Certificates applied from a file (next to its root-cert.pem) or with " + CARootVar)
		}
		rootFile = filepath.Join(filepath.Dir(f), "root-cert.pem")
	}
	root, err := os.ReadFile(rootFile)
	if err != nil {
		return fmt.Errorf("fakecluster: cert-manager has no root to issue under: %w", err)
	}
	spec, _ := doc["spec"].(map[string]any)
	meta, _ := doc["metadata"].(map[string]any)
	name, _ := spec["secretName"].(string)
	if name == "" {
		return errors.New("error: Certificate without spec.secretName")
	}
	secretMeta := map[string]any{"name": name, "namespace": cmp.Or(fmt.Sprint(meta["namespace"]), ns)}
	if tmpl, ok := spec["secretTemplate"].(map[string]any); ok && tmpl["labels"] != nil {
		secretMeta["labels"] = tmpl["labels"]
	}
	secret := map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": secretMeta,
		"data": map[string]any{"ca.crt": base64.StdEncoding.EncodeToString(root)}}
	k, err := keyOf(secret, ns)
	if err != nil {
		return err
	}
	// cert-manager keeps the type of a Secret it finds (immutable) and
	// applies only its own keys: the others stay (its SecretsManager).
	if was, ok := cl.Objects[k]; ok {
		secret["type"] = was.Doc["type"]
		data, _ := was.Doc["data"].(map[string]any)
		for key, v := range data {
			if key != "ca.crt" {
				secret["data"].(map[string]any)[key] = v
			}
		}
	}
	cl.Objects[k] = Object{Doc: secret}
	return nil
}

// waitIssued is kubectl wait --for=condition=Ready on a Certificate: met
// once it is applied (the model issues at once).
func (r *run) waitIssued() error {
	c := r.cmd
	name := strings.TrimPrefix(c.words[len(c.words)-1], certificateResource+"/")
	k := Key(certificateResource, cmp.Or(c.flags["-n"], "default"), name)
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		if _, ok := cl.Objects[k]; !ok {
			return fmt.Errorf("Error from server (NotFound): certificates.cert-manager.io %q not found", name)
		}
		fmt.Fprintf(r.stdout, "%s/%s condition met\n", certificateResource, name)
		return nil
	})
}

// getSecretData is kubectl get secret NAME -o 'jsonpath={.data.KEY}', KEY
// with its dots escaped: the value as the API server holds it (base64).
func (r *run) getSecretData() error {
	c := r.cmd
	expr, ok := strings.CutPrefix(c.flags["-o"], "jsonpath={.data.")
	key, ok2 := strings.CutSuffix(expr, "}")
	if !ok || !ok2 {
		return fmt.Errorf("error: -o %q: the model knows jsonpath={.data.KEY} only", c.flags["-o"])
	}
	key = strings.ReplaceAll(key, `\.`, ".")
	k := Key("secret", cmp.Or(c.flags["-n"], "default"), c.words[2])
	return r.change(c.flags["--context"], func(cl *Cluster) error {
		o, ok := cl.Objects[k]
		if !ok {
			return fmt.Errorf("Error from server (NotFound): secrets %q not found", c.words[2])
		}
		data, _ := o.Doc["data"].(map[string]any)
		fmt.Fprint(r.stdout, data[key])
		return nil
	})
}

// istioCSRChart is istio-csr's chart as the plans name it.
const istioCSRChart = "jetstack/cert-manager-istio-csr"

// installIstioCSR does what installing istio-csr's chart does in the
// model: with helm's --wait, it fails unless the Issuer its values name
// exists (the pod is ready only once the Issuer has signed its serving
// certificate), and the chart's Certificate istiod (app.tls
// istiodCertificateEnable, the default) is issued into Secret istiod-tls of
// app.istio.namespace.
func (r *run) installIstioCSR(cl *Cluster, values []map[string]any) error {
	var v map[string]any
	if len(values) > 0 {
		v = values[0]
	}
	get := func(def string, keys ...string) string {
		var cur any = v
		for _, k := range keys {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		if s, ok := cur.(string); ok {
			return s
		}
		return def
	}
	issuerNS, issuer := get("istio-system", "app", "certmanager", "namespace"), get("istio-ca", "app", "certmanager", "issuer", "name")
	if _, ok := cl.Objects[Key("issuer.cert-manager.io", issuerNS, issuer)]; !ok {
		return fmt.Errorf("Error: context deadline exceeded: istio-csr is not ready: Issuer %s/%s does not exist", issuerNS, issuer)
	}
	istioNS := get("istio-system", "app", "istio", "namespace")
	cert := map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "istiod", "namespace": istioNS},
		"spec":     map[string]any{"secretName": "istiod-tls"}}
	k, err := keyOf(cert, istioNS)
	if err != nil {
		return err
	}
	// The release owns its Certificate; cert-manager leaves the Secret.
	cl.Objects[k] = Object{Doc: cert, InstalledBy: "helm " + r.cmd.words[1]}
	return r.issue(cl, cert, istioNS)
}
