package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	sigsyaml "sigs.k8s.io/yaml"

	networkingv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/istioctl/pkg/cli"
	"istio.io/istio/istioctl/pkg/validate"
)

// Validate runs `istioctl validate -f path` in process: Istio's own
// validation of every Istio config resource in the file (Gateway,
// VirtualService, ...), the same code istiod's validating webhook runs.
// istioctl exits 0 on warnings; Validate does not: its only accepted output is
// istioctl's "is valid".
func Validate(path string) error {
	cmd := validate.NewValidateCommand(cli.NewCLIContext(nil))
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"-f", path})
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	if err := cmd.Execute(); err != nil {
		return fmt.Errorf("istioctl validate: %w", err)
	}
	if want := fmt.Sprintf("%q is valid\n", path); out.String() != want {
		return fmt.Errorf("istioctl validate: %s", bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// strictDecoder decodes Kubernetes built-in kinds, Istio's networking kinds
// and Gateway API v1 kinds (federation's istio-remote Gateways) into their Go API types, failing on unknown and duplicate fields:
// what the API server does with kubectl apply's server-side field validation.
var strictDecoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(s), networkingv1.AddToScheme(s), gatewayv1.Install(s)); err != nil {
		panic(err) // static registration; cannot fail on any input
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

// Decode decodes every document of the YAML file at path strictly into the
// Go type of its apiVersion and kind, and returns the objects. A kind neither
// Kubernetes nor Istio networking defines is an error. A Gateway API object
// is also validated against its CRD (testdata/crds), CEL rules and all,
// since its Go type holds none of the CRD's limits (16 addresses, unique
// values) that the API server enforces.
func Decode(path string) ([]runtime.Object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := kubeyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	var errs []error
	for i := 0; ; i++ {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		if gvk.Group == gatewayAPIGroup {
			if err := crdValidateYAML(doc); err != nil {
				errs = append(errs, fmt.Errorf("document %d: %s %w", i+1, gvk.Kind, err))
			}
		}
		objs = append(objs, obj)
	}
	return objs, errors.Join(errs...)
}

// crdValidateYAML validates one YAML document against its CRD.
func crdValidateYAML(doc []byte) error {
	data, err := sigsyaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil { // integers as int64, as the API server reads them
		return err
	}
	return crdValidate(u)
}
