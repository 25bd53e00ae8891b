// Package helm holds the tests of the edgetel Helm chart (deploy/helm/edgetel): helm lint and
// helm template with real Helm (hack/build-helm.sh), the chart's CRDs against deploy/crds, and
// the chart's PrometheusRule and dashboard files against what `edgetel render` prints. With
// the example Envoy fleet of deploy/examples (its bootstrap against `edgetel render
// bootstrap`), the rendered manifests go through kubeconform -strict (schemas from
// hack/build-kubeconform.sh) and a server-side dry run on a real kube-apiserver
// (internal/kubetest); then `helm install` into it, and the control plane serves the chart's
// example route.
//
// After changing the SLO rules, the dashboards or the example policies, regenerate the files:
//
//	go test ./deploy/helm -run TestChartFilesMatchRender -update
package helm

//go:generate go test -run TestChartFilesMatchRender -update .
