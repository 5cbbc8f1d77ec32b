// Package fakecluster stands in for kubectl, istioctl and helm, as the plans
// meshc writes call them, over a model of what each kube context holds: a
// test puts small scripts named after the tools on PATH that run Main, runs
// plan.sh with bash, and reads the State afterwards.
//
// In: a tool's name and arguments, its standard input, and the directory of
// the state (MESHC_FAKE_STATE). Out: the tool's output and exit code, and the
// state as the tool would have left the clusters: objects by kind, namespace
// and name with their documents, and installs (istioctl IstioOperators, Helm
// releases).
//
// The stand-ins are strict: a command, flag or resource kind they do not
// know fails, so a plan that calls the tools in a new way fails the tests
// until the model learns it. They are conservative where the real tools
// differ between versions: uninstalling Istio removes the installs and what
// they created, never the custom resources of Istio's kinds that a plan
// applied (a plan must delete those itself).
package fakecluster
