package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"meshc.dev/meshc/compiler"
)

// invalid maps each input under testdata/invalid to the exact problems meshc
// must report for it: position, field path, message and rule ID. Every schema
// class and every rule in compiler.Rules has at least one case here
// (TestEveryRuleHasANegativeCase enforces the latter).
var invalid = map[string][]string{
	// Suggestions leave the listed primaries in input order for every remote.
	"mc005-suggestions.yaml": {
		`mc005-suggestions.yaml:24:21: spec.clusters[2].controlPlane: control plane "zetta" is not a cluster of this mesh (primaries: zeta, alpha); did you mean "zeta"? [MC005]`,
		`mc005-suggestions.yaml:28:21: spec.clusters[3].controlPlane: control plane "alpah" is not a cluster of this mesh (primaries: zeta, alpha); did you mean "alpha"? [MC005]`,
	},
	"mc012-unused-istiod-address.yaml": {
		`mc012-unused-istiod-address.yaml:22:18: spec.clusters[1].istiod.address: primary "cluster2" serves no remotes, so istiod.address is unused (only remotes dial a primary's istiod; remove it, or name "cluster2" as a remote's controlPlane) [MC012]`,
		`mc012-unused-istiod-address.yaml:28:18: spec.clusters[2].istiod.address: remote cluster "cluster3" runs no istiod, so istiod.address is unused; remotes reach their primary's istiod at the primary's address (remove it here) [MC012]`,
	},
	"mc013-unused-network.yaml": {
		`mc013-unused-network.yaml:13:13: spec.networks[2].name: network "network3" is declared but no cluster sits on it (remove it, or set it as a cluster's network) [MC013]`,
	},
	"schema-bare-kind.yaml": {
		`schema-bare-kind.yaml:1:1: missing required field "apiVersion"`,
		`schema-bare-kind.yaml:1:1: missing required field "metadata"`,
		`schema-bare-kind.yaml:1:1: missing required field "spec"`,
	},
	"empty.yaml": {
		`empty.yaml:1:1: file is empty; expected a Mesh document`,
	},
	"mc001-mc002-duplicates.yaml": {
		`mc001-mc002-duplicates.yaml:12:13: spec.networks[1].name: network "network1" is already declared as spec.networks[0]; network names must be unique [MC002]`,
		`mc001-mc002-duplicates.yaml:17:13: spec.clusters[1].name: cluster "cluster1" is already defined as spec.clusters[0]; cluster names must be unique [MC001]`,
	},
	"mc003-undeclared-network.yaml": {
		`mc003-undeclared-network.yaml:14:16: spec.clusters[0].network: network "network2" is not declared (declared: network1); did you mean "network1"? [MC003]`,
	},
	"mc004-remote-in-multi-primary.yaml": {
		`mc004-remote-in-multi-primary.yaml:13:7: spec.clusters[0]: primary "cluster1" serves remote cluster2 but has no eastWestGateway to expose istiod through; add eastWestGateway with its address, or give istiod.address [MC008]`,
		`mc004-remote-in-multi-primary.yaml:18:13: spec.clusters[1].role: cluster "cluster2" is a remote, but topology "multi-primary" runs istiod in every cluster; make it a primary or use topology "primary-remote" [MC004]`,
	},
	"mc005-remote-without-primary.yaml": {
		`mc005-remote-without-primary.yaml:18:7: spec.clusters[1]: remote cluster "cluster2" must name its primary in controlPlane (primaries: cluster1) [MC005]`,
		`mc005-remote-without-primary.yaml:24:21: spec.clusters[2].controlPlane: remote cluster "cluster3" names itself as its control plane; name a primary (primaries: cluster1) [MC005]`,
		`mc005-remote-without-primary.yaml:28:21: spec.clusters[3].controlPlane: control plane "cluster2" is a remote, not a primary; a remote must name a primary (primaries: cluster1) [MC005]`,
		`mc005-remote-without-primary.yaml:32:21: spec.clusters[4].controlPlane: control plane "clustr1" is not a cluster of this mesh (primaries: cluster1); did you mean "cluster1"? [MC005]`,
	},
	"mc006-primary-with-control-plane.yaml": {
		`mc006-primary-with-control-plane.yaml:16:21: spec.clusters[0].controlPlane: primary cluster "cluster1" runs its own istiod; controlPlane is only for remotes (remove it, or set role: remote) [MC006]`,
	},
	"mc007-missing-east-west-gateway.yaml": {
		`mc007-missing-east-west-gateway.yaml:12:13: spec.networks[1].name: network "network2" hosts cluster cluster2 but none has an eastWestGateway; other networks reach its workloads only through one (add eastWestGateway: {} to one of them) [MC007]`,
	},
	"mc008-istiod-unreachable.yaml": {
		`mc008-istiod-unreachable.yaml:13:7: spec.clusters[0]: primary "cluster1" serves remote cluster3 but has no eastWestGateway to expose istiod through; add eastWestGateway with its address, or give istiod.address [MC008]`,
		`mc008-istiod-unreachable.yaml:19:7: spec.clusters[1].eastWestGateway: primary "cluster2" serves remote cluster4, which reach istiod through this gateway: set eastWestGateway.address to its external IP or hostname (kubectl get svc istio-eastwestgateway -n istio-system), or give istiod.address [MC008]`,
	},
	"mc009-invalid-address.yaml": {
		`mc009-invalid-address.yaml:17:18: spec.clusters[0].eastWestGateway.address: 127.0.0.1 is a loopback address; other clusters cannot reach it [MC009]`,
		`mc009-invalid-address.yaml:19:18: spec.clusters[0].istiod.address: "300.1.2.3" is not a valid IP address [MC009]`,
		`mc009-invalid-address.yaml:19:18: spec.clusters[0].istiod.address: primary "cluster1" serves no remotes, so istiod.address is unused (only remotes dial a primary's istiod; remove it, or name "cluster1" as a remote's controlPlane) [MC012]`,
		`mc009-invalid-address.yaml:24:18: spec.clusters[1].eastWestGateway.address: "localhost" is a loopback name; other clusters cannot reach it [MC009]`,
	},
	"mc010-duplicate-context.yaml": {
		`mc010-duplicate-context.yaml:20:16: spec.clusters[1].context: cluster "cluster2" uses kubeconfig context "kind-mesh", already used by cluster "cluster1"; each cluster needs its own context [MC010]`,
	},
	"mc011-unreachable-api-server.yaml": {
		`mc011-unreachable-api-server.yaml:16:18: spec.clusters[0].apiServer: "https://127.0.0.1:6443": 127.0.0.1 is a loopback address; other clusters cannot reach it (kind and minikube kubeconfigs name the local machine; use the API server's address on a network the other clusters reach) [MC011]`,
		`mc011-unreachable-api-server.yaml:20:18: spec.clusters[1].apiServer: "https://localhost:38211": "localhost" is a loopback name; other clusters cannot reach it (kind and minikube kubeconfigs name the local machine; use the API server's address on a network the other clusters reach) [MC011]`,
		`mc011-unreachable-api-server.yaml:24:18: spec.clusters[2].apiServer: "https://[::1]:6443": ::1 is a loopback address; other clusters cannot reach it (kind and minikube kubeconfigs name the local machine; use the API server's address on a network the other clusters reach) [MC011]`,
		`mc011-unreachable-api-server.yaml:28:18: spec.clusters[3].apiServer: "https://0.0.0.0": 0.0.0.0 is the unspecified address; give the address other clusters dial (kind and minikube kubeconfigs name the local machine; use the API server's address on a network the other clusters reach) [MC011]`,
	},
	"non-utf8.yaml": {
		`non-utf8.yaml:4:12: input is not valid UTF-8`,
	},
	"not-a-mapping.yaml": {
		`not-a-mapping.yaml:1:1: expected a single Mesh document (a YAML mapping with apiVersion, kind, metadata and spec), found a list`,
	},
	"schema-enum.yaml": {
		`schema-enum.yaml:18:13: spec.clusters[1].role: must be "primary" or "remote", got "remtoe"`,
	},
	"schema-kind.yaml": {
		`schema-kind.yaml:1:13: apiVersion: must be "meshc.dev/v1alpha1", got "meshc.dev/v1"`,
		`schema-kind.yaml:2:7: kind: must be "Mesh", got "Mash"`,
		`schema-kind.yaml:7:13: spec.topology: must be "multi-primary" or "primary-remote", got "mesh"`,
	},
	"schema-missing.yaml": {
		`schema-missing.yaml:5:1: spec: missing required field "meshID"`,
		`schema-missing.yaml:7:3: spec.istio: missing required field "version"`,
		`schema-missing.yaml:11:7: spec.clusters[0]: missing required field "name"`,
	},
	"schema-names.yaml": {
		`schema-names.yaml:10:16: spec.trustDomain: must be a DNS-1123 subdomain, as "cluster.local" (the default), got "Example.org"`,
		`schema-names.yaml:12:13: spec.networks[0].name: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got "Network_1"`,
		`schema-names.yaml:14:13: spec.clusters[0].name: must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got "cluster-1-"`,
		`schema-names.yaml:17:16: spec.clusters[0].context: must be a kubeconfig context name (no whitespace, at most 253 characters); defaults to the cluster name, got "my context"`,
	},
	"schema-types.yaml": {
		`schema-types.yaml:10:3: spec.networks: must be a list of at least one network, got an empty list`,
		`schema-types.yaml:11:13: spec.clusters: must be a list of at least one cluster, got "cluster1"`,
	},
	"schema-unknown-field.yaml": {
		`schema-unknown-field.yaml:13:7: spec.clusters[0]: missing required field "network"`,
		`schema-unknown-field.yaml:14:7: spec.clusters[0].netwrk: unknown field "netwrk"; did you mean "network"?`,
		`schema-unknown-field.yaml:16:7: spec.clusters[0].eastwestGateway: unknown field "eastwestGateway"; did you mean "eastWestGateway"?`,
		`schema-unknown-field.yaml:17:3: spec.trustdomain: unknown field "trustdomain"; did you mean "trustDomain"?`,
	},
	"schema-version.yaml": {
		`schema-version.yaml:9:14: spec.istio.version: must be an Istio release meshc targets: 1.24.x through 1.31.x, as "1.28.0", got 1.28`,
	},
	"yaml-comments-only.yaml": {
		`yaml-comments-only.yaml:1:1: file holds no YAML document, only comments; expected a Mesh document`,
	},
	"yaml-duplicate-keys.yaml": {
		`yaml-duplicate-keys.yaml:16:7: spec.clusters[0].network: duplicate key "network"; each key may appear once in a mapping (first at line 14)`,
		`yaml-duplicate-keys.yaml:20:7: spec.clusters[1].role: duplicate key "role"; each key may appear once in a mapping (first at line 19)`,
		`yaml-duplicate-keys.yaml:21:3: spec.topology: duplicate key "topology"; each key may appear once in a mapping (first at line 7)`,
	},
	"yaml-multiple-documents.yaml": {
		`yaml-multiple-documents.yaml:17:1: expected exactly one Mesh document, found 3 (each '---' line starts a new document)`,
	},
	"yaml-too-deep.yaml": {
		`yaml-too-deep.yaml:6:41: metadata.labels.deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: input nests more than 32 levels deep; no Mesh document nests that deep`,
	},
	"yaml-syntax.yaml": {
		`yaml-syntax.yaml:3:1: invalid YAML: did not find expected node content`,
	},
}

func TestInvalidInputs(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) != len(invalid) {
		t.Errorf("%d files in testdata/invalid, %d cases in the table; keep them in step", len(files), len(invalid))
	}
	for name, want := range invalid {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/invalid", name))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = compiler.Compile(name, data)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEveryRuleHasANegativeCase(t *testing.T) {
	for _, r := range compiler.Rules {
		found := false
		for _, want := range invalid {
			for _, line := range want {
				found = found || strings.HasSuffix(line, "["+r.ID+"]")
			}
		}
		if !found {
			t.Errorf("rule %s (%s) has no case in testdata/invalid", r.ID, r.Name)
		}
	}
}

// TestLimits covers input too big to keep under testdata: the size bound and
// nesting beyond what the YAML parser itself accepts.
func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"large.yaml", []byte("# " + strings.Repeat("x", compiler.MaxInputSize)),
			"large.yaml:1:1: input exceeds 4194304 bytes (4 MiB), the most meshc reads; a Mesh document is far smaller"},
		{"flow.yaml", []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)),
			"flow.yaml:1:1: input nests more than 32 levels deep; no Mesh document nests that deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compiler.Load(tt.name, tt.data)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}
