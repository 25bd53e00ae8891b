// Package helm holds the tests of the edgetel Helm chart (deploy/helm/edgetel): helm lint and
// helm template with real Helm (hack/build-helm.sh), the chart's CRDs against deploy/crds, and
// the chart's PrometheusRule and dashboard files against what `edgetel render` prints.
//
// After changing the SLO rules, the dashboards or the example policies, regenerate the files:
//
//	go test ./deploy/helm -run TestChartFilesMatchRender -update
package helm

//go:generate go test -run TestChartFilesMatchRender -update .
