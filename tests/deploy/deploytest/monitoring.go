package main

// monitoring: checks deploy/monitoring without Prometheus or Grafana. The dashboard must be
// JSON whose panels each query something; the alert rules (a PrometheusRule or a plain rules
// file) must be YAML whose rules each have a name, an expression, a severity and a summary; and
// every PromQL expression in either may name only metrics listed in metrics.txt, every
// kafka-sidecar metric there appearing on some panel. The metric names of an expression are
// found by a small scanner that knows PromQL's syntax well enough for this: strings, label
// matchers, ranges and Grafana's $variables are skipped, as are names that call a function and
// the label lists of by, without, on, ignoring, group_left and group_right.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// knownMetric is a line of metrics.txt.
type knownMetric struct {
	kind   string // counter, gauge, histogram, summary
	origin string // kafka-sidecar, or the exporter that provides it
}

func readKnownMetrics(file string) (map[string]knownMetric, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	known := map[string]knownMetric{}
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: expected NAME TYPE FROM", file, line)
		}
		known[fields[0]] = knownMetric{fields[1], fields[2]}
	}
	return known, scanner.Err()
}

// seriesName maps a series name to the metric it belongs to (a histogram's _bucket, _sum and
// _count series to the histogram), or "" when metrics.txt does not list it.
func seriesName(name string, known map[string]knownMetric) string {
	if _, ok := known[name]; ok {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base := strings.TrimSuffix(name, suffix)
		if metric, ok := known[base]; ok && base != name &&
			(metric.kind == "histogram" || (metric.kind == "summary" && suffix != "_bucket")) {
			return base
		}
	}
	return ""
}

var (
	promStrings   = regexp.MustCompile("\"(\\\\.|[^\"\\\\])*\"|'(\\\\.|[^'\\\\])*'|`[^`]*`")
	promMatchers  = regexp.MustCompile(`\{[^{}]*\}`)
	promRanges    = regexp.MustCompile(`\[[^\[\]]*\]`)
	grafanaVars   = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	labelLists    = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promTokens    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?|[0-9][A-Za-z0-9_.]*`)
	promOperators = map[string]bool{"and": true, "or": true, "unless": true, "bool": true,
		"offset": true, "by": true, "without": true, "on": true, "ignoring": true,
		"group_left": true, "group_right": true, "inf": true, "nan": true}
)

// metricNames returns the metric names an expression selects.
func metricNames(expr string) []string {
	expr = promStrings.ReplaceAllString(expr, `""`)
	expr = grafanaVars.ReplaceAllString(expr, "")
	expr = promMatchers.ReplaceAllString(expr, " ")
	expr = promRanges.ReplaceAllString(expr, " ")
	expr = labelLists.ReplaceAllString(expr, " ")
	var names []string
	for _, token := range promTokens.FindAllString(expr, -1) {
		if strings.HasSuffix(token, "(") || token[0] >= '0' && token[0] <= '9' ||
			promOperators[strings.ToLower(token)] {
			continue
		}
		names = append(names, token)
	}
	return names
}

// labelValuesQuery matches a Grafana variable query label_values(SELECTOR, LABEL), whose second
// argument is a label, not a metric.
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)

func runMonitoring(dashboardFile, rulesFile, metricsFile string, expected []string) error {
	if dashboardFile == "" || rulesFile == "" || metricsFile == "" {
		return fmt.Errorf("-dashboard, -rules and -metrics are required")
	}
	known, err := readKnownMetrics(metricsFile)
	if err != nil {
		return err
	}
	var problems failures
	onDashboard := map[string]bool{}
	checkExpr := func(where, expr string, used map[string]bool) {
		if strings.TrimSpace(expr) == "" {
			problems.add("%s: empty expression", where)
		}
		for _, name := range metricNames(expr) {
			metric := seriesName(name, known)
			if metric == "" {
				problems.add("%s: unknown metric %s (not in %s)", where, name, metricsFile)
				continue
			}
			if used != nil {
				used[metric] = true
			}
		}
	}

	panels, variables, err := readDashboard(dashboardFile)
	if err != nil {
		return err
	}
	for _, panel := range panels {
		where := fmt.Sprintf("panel %q", str(panel["title"]))
		exprs := 0
		for _, target := range maps(panel["targets"]) {
			if expr, ok := target["expr"].(string); ok {
				exprs++
				checkExpr(where, expr, onDashboard)
			}
		}
		if exprs == 0 {
			problems.add("%s has no target with an expr", where)
		}
	}
	for _, variable := range variables {
		query, _ := variable["query"].(string)
		if nested, ok := variable["query"].(map[string]interface{}); ok {
			query = str(nested["query"])
		}
		if str(variable["type"]) != "query" {
			continue
		}
		if m := labelValuesQuery.FindStringSubmatch(query); m != nil {
			query = m[1]
		}
		checkExpr(fmt.Sprintf("variable %q", str(variable["name"])), query, nil)
	}
	var sidecarMetrics []string
	for name, metric := range known {
		if metric.origin == "kafka-sidecar" {
			sidecarMetrics = append(sidecarMetrics, name)
		}
	}
	sort.Strings(sidecarMetrics)
	for _, name := range sidecarMetrics {
		if !onDashboard[name] {
			problems.add("%s is on no panel of the dashboard", name)
		}
	}

	rules, err := readRules(rulesFile)
	if err != nil {
		return err
	}
	if len(rules) == 0 {
		problems.add("%s has no rules", rulesFile)
	}
	for _, rule := range rules {
		name := str(rule["alert"])
		if name == "" {
			name = str(rule["record"])
		}
		where := "rule " + name
		if rule["alert"] != nil {
			where = "alert " + name
			if str(mapAt(rule, "labels")["severity"]) == "" {
				problems.add("%s has no severity label", where)
			}
			if str(mapAt(rule, "annotations")["summary"]) == "" {
				problems.add("%s has no summary annotation", where)
			}
		}
		if name == "" {
			problems.add("a rule has neither alert nor record")
		}
		checkExpr(where, str(rule["expr"]), nil)
	}
	fmt.Printf("checked %d panels and %d rules against %d known metrics\n", len(panels),
		len(rules), len(known))
	return problems.against(expected)
}

// readDashboard returns a Grafana dashboard's panels (those inside rows too, rows themselves
// and text panels left out) and its templating variables.
func readDashboard(file string) ([]map[string]interface{}, []map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var dashboard map[string]interface{}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", file, err)
	}
	if str(dashboard["title"]) == "" || str(dashboard["uid"]) == "" {
		return nil, nil, fmt.Errorf("%s: the dashboard needs a title and a uid", file)
	}
	var panels []map[string]interface{}
	var collect func(list interface{})
	collect = func(list interface{}) {
		for _, panel := range maps(list) {
			switch str(panel["type"]) {
			case "row":
				collect(panel["panels"])
			case "text":
			default:
				panels = append(panels, panel)
			}
		}
	}
	collect(dashboard["panels"])
	return panels, maps(mapAt(dashboard, "templating")["list"]), nil
}

// readRules returns the rules of a PrometheusRule or of a plain Prometheus rules file.
func readRules(file string) ([]map[string]interface{}, error) {
	doc, err := readYAMLMap(file)
	if err != nil {
		return nil, err
	}
	groups := doc["groups"]
	if str(doc["kind"]) == "PrometheusRule" {
		if str(doc["apiVersion"]) != "monitoring.coreos.com/v1" {
			return nil, fmt.Errorf("%s: apiVersion %q, expected monitoring.coreos.com/v1", file,
				str(doc["apiVersion"]))
		}
		groups = mapAt(doc, "spec")["groups"]
	}
	var rules []map[string]interface{}
	for _, group := range maps(groups) {
		if str(group["name"]) == "" {
			return nil, fmt.Errorf("%s: a rule group has no name", file)
		}
		rules = append(rules, maps(group["rules"])...)
	}
	return rules, nil
}
