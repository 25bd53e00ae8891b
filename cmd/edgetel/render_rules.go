package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgetel/edgetel/config"
	"github.com/edgetel/edgetel/dashboards"
	"github.com/edgetel/edgetel/model"
	"github.com/edgetel/edgetel/slo"
)

func newRenderRulesCmd() *cobra.Command {
	var (
		policies, format string
		opts             slo.RuleOptions
		meta             slo.PrometheusRuleMeta
	)
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Print the Prometheus recording and alerting rules of the policies' SLOs",
		Long: "Prints, for every route objective, the recording rules of its error ratio, burn rate and\n" +
			"budget, and its multiwindow multi-burn-rate alerts, computed from the sink's counters\n" +
			"summed across sink replicas. --format rules is a file for Prometheus's rule_files;\n" +
			"prometheusrule is a monitoring.coreos.com/v1 PrometheusRule for the Prometheus Operator.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return renderRules(cmd.OutOrStdout(), policySource(policies), format, opts, meta)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&policies, "policies", "", "directory of policies (default: the embedded examples)")
	fs.StringVar(&format, "format", "rules", "rules (a Prometheus rule file) or prometheusrule (a PrometheusRule object)")
	fs.StringVar(&opts.RunbookURL, "runbook-url", slo.DefaultRunbookURL, "runbook the alerts link to (#page or #ticket is appended)")
	fs.StringVar(&opts.GrafanaURL, "grafana-url", slo.DefaultGrafanaURL, "Grafana base URL for the alerts' dashboard links")
	fs.DurationVar(&opts.BudgetInterval, "budget-interval", slo.DefaultBudgetInterval, "evaluation interval of the SLO-window (budget) rule groups")
	fs.StringVar(&meta.Name, "name", "edgetel-slo", "with --format prometheusrule: the object's name")
	fs.StringVar(&meta.Namespace, "namespace", "", "with --format prometheusrule: the object's namespace")
	fs.StringToStringVar(&meta.Labels, "label", nil, "with --format prometheusrule: a label for the Prometheus's ruleSelector, key=value (repeatable)")
	return cmd
}

func renderRules(w io.Writer, src *config.Dir, format string, opts slo.RuleOptions, meta slo.PrometheusRuleMeta) error {
	e, err := loadModel(src)
	if err != nil {
		return err
	}
	f, err := slo.Rules(e, opts)
	if err != nil {
		return err
	}
	var out []byte
	switch format {
	case "rules":
		out, err = f.YAML()
	case "prometheusrule":
		out, err = f.PrometheusRule(meta)
	default:
		return fmt.Errorf("--format %q: want rules or prometheusrule", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func newRenderDashboardsCmd() *cobra.Command {
	var (
		policies, format, out string
		meta                  dashboards.ConfigMapMeta
	)
	cmd := &cobra.Command{
		Use:   "dashboards",
		Short: "Print the Grafana dashboards of the policies: an SLO overview and one per route",
		Long: "--format configmap (the default) prints one ConfigMap per dashboard, labelled\n" +
			"grafana_dashboard: \"1\" for the Grafana sidecar. --format json writes one <uid>.json per\n" +
			"dashboard into --out, for Grafana's file provisioning or its import page.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return renderDashboards(cmd.OutOrStdout(), policySource(policies), format, out, meta)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&policies, "policies", "", "directory of policies (default: the embedded examples)")
	fs.StringVar(&format, "format", "configmap", "configmap (YAML to stdout) or json (files in --out)")
	fs.StringVar(&out, "out", "", "with --format json: the directory to write <uid>.json files into")
	fs.StringVar(&meta.Namespace, "namespace", "", "with --format configmap: the ConfigMaps' namespace")
	fs.StringVar(&meta.Folder, "folder", "edgetel", "with --format configmap: the Grafana folder (grafana_folder annotation)")
	return cmd
}

func renderDashboards(w io.Writer, src *config.Dir, format, out string, meta dashboards.ConfigMapMeta) error {
	e, err := loadModel(src)
	if err != nil {
		return err
	}
	ds, err := dashboards.Generate(e, dashboards.Options{})
	if err != nil {
		return err
	}
	switch format {
	case "configmap":
		b, err := dashboards.ConfigMaps(ds, meta)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "json":
		if out == "" {
			return errors.New("--format json writes one file per dashboard: give the directory with --out")
		}
		return writeDashboards(w, ds, out)
	}
	return fmt.Errorf("--format %q: want configmap or json", format)
}

func writeDashboards(w io.Writer, ds []dashboards.Dashboard, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range ds {
		b, err := d.JSON()
		if err != nil {
			return err
		}
		path := filepath.Join(dir, d.UID+".json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, path)
	}
	return nil
}

// loadModel compiles the policies; any rejected policy is an error, since rules and
// dashboards of a partial model would silently leave routes out.
func loadModel(src *config.Dir) (*model.Edge, error) {
	ps, err := src.Load()
	if err != nil {
		return nil, err
	}
	out := config.Compile(config.Input{Policies: ps})
	if err := out.Err(); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	return out.Edge, nil
}
