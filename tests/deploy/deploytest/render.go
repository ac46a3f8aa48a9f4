package main

// A small stand-in for `helm template`, because Helm itself cannot be installed here. It
// implements the part of Helm's template engine that helm/kafka-sidecar uses, and no more:
//
//   - Go text/template with missingkey=zero, "<no value>" blanked out, as Helm does;
//   - Sprig's functions (github.com/Masterminds/sprig) without env and expandenv;
//   - Helm's include, required and toYaml (yaml.v2 here, sigs.k8s.io/yaml in Helm: both sort
//     map keys; numbers from values.yaml are ints here, float64 in Helm, which print alike for
//     the integers a chart uses);
//   - .Values: values.yaml deep-merged with --set overrides; .Chart: Chart.yaml's fields under
//     Helm's names (Name, Version, AppVersion, ...); .Release: Name, Namespace, Service,
//     IsInstall, IsUpgrade, Revision; .Template: Name, BasePath;
//   - every file under templates/ is parsed; files starting with "_" are not rendered,
//     NOTES.txt is rendered apart, and output that is only whitespace is dropped.
//
//   - dependencies in Chart.yaml with a file:// repository, read from there (standing in for
//     `helm dependency build`); their values are coalesced under their name as Helm does.
//
//   - values.schema.json: each chart's values (a dependency's after coalescing) are validated
//     against its schema before anything renders, as Helm does (gojsonschema here, another
//     JSON Schema library in Helm: the messages differ).
//
// Not supported (a chart using them fails here): tpl, lookup, fromYaml, toToml, .Capabilities,
// .Files, charts/ directories, dependency aliases, conditions and tags, global values,
// -f values files, and the --set forms for list indexes (a[0]=x) and --set-string.

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v2"
)

type chart struct {
	dir          string
	metadata     map[string]interface{}
	values       map[string]interface{}
	templates    map[string]string // "<chart path>/templates/<file>" -> text
	dependencies []*chart
	basePath     string // what .Template.BasePath says: "<chart path>/templates"
	schema       string // values.schema.json, or "" when the chart has none
}

type rendered struct {
	files map[string]string // template name -> output, whitespace-only outputs left out
	notes string
}

func loadChart(dir string) (*chart, error) {
	return loadChartAt(dir, "")
}

// loadChartAt loads the chart in dir, whose templates are named under parentPath as in Helm
// ("parent/charts/" for a dependency), and its file:// dependencies.
func loadChartAt(dir, parentPath string) (*chart, error) {
	c := &chart{dir: dir, templates: map[string]string{}}
	raw, err := readYAMLMap(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	if raw["apiVersion"] != "v2" {
		return nil, fmt.Errorf("%s/Chart.yaml: apiVersion is %v, expected v2", dir, raw["apiVersion"])
	}
	c.metadata = map[string]interface{}{}
	for key, value := range raw {
		c.metadata[metadataField(key)] = value
	}
	name, _ := c.metadata["Name"].(string)
	if name == "" {
		return nil, fmt.Errorf("%s/Chart.yaml has no name", dir)
	}
	c.basePath = parentPath + name + "/templates"
	if c.values, err = readYAMLMap(filepath.Join(dir, "values.yaml")); err != nil {
		return nil, err
	}
	if schema, err := os.ReadFile(filepath.Join(dir, "values.schema.json")); err == nil {
		c.schema = string(schema)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "charts")); err == nil {
		return nil, fmt.Errorf("%s: charts/ is not supported by this renderer, only file:// "+
			"dependencies", dir)
	}
	for _, dependency := range maps(raw["dependencies"]) {
		repository := str(dependency["repository"])
		if !strings.HasPrefix(repository, "file://") || dependency["alias"] != nil ||
			dependency["condition"] != nil || dependency["tags"] != nil {
			return nil, fmt.Errorf("%s: dependency %q: only file:// repositories without alias, "+
				"condition or tags are supported", dir, str(dependency["name"]))
		}
		depDir := filepath.Join(dir, strings.TrimPrefix(repository, "file://"))
		dep, err := loadChartAt(depDir, parentPath+name+"/charts/")
		if err != nil {
			return nil, err
		}
		if dep.metadata["Name"] != dependency["name"] {
			return nil, fmt.Errorf("%s: dependency %q is named %v in %s", dir,
				str(dependency["name"]), dep.metadata["Name"], depDir)
		}
		c.dependencies = append(c.dependencies, dep)
	}
	templatesDir := filepath.Join(dir, "templates")
	err = filepath.Walk(templatesDir, func(file string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		text, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		relative, _ := filepath.Rel(templatesDir, file)
		c.templates[c.basePath+"/"+filepath.ToSlash(relative)] = string(text)
		return nil
	})
	return c, err
}

// metadataField maps a Chart.yaml key to the field name templates use (.Chart.AppVersion).
func metadataField(key string) string {
	switch key {
	case "apiVersion":
		return "APIVersion"
	case "appVersion":
		return "AppVersion"
	case "kubeVersion":
		return "KubeVersion"
	}
	return strings.ToUpper(key[:1]) + key[1:]
}

func releaseInfo(name string) map[string]interface{} {
	return map[string]interface{}{
		"Name": name, "Namespace": "default", "Service": "Helm",
		"IsInstall": true, "IsUpgrade": false, "Revision": 1,
	}
}

// valuesWithOverrides returns values.yaml merged with --set style overrides.
func (c *chart) valuesWithOverrides(sets []string) (map[string]interface{}, error) {
	values := deepCopy(c.values).(map[string]interface{})
	for _, set := range sets {
		if err := applySet(values, set); err != nil {
			return nil, err
		}
	}
	return values, nil
}

// scopedTemplate is a template file and the data it executes with.
type scopedTemplate struct {
	text string
	data map[string]interface{}
}

// scope gathers the templates of c and its dependencies, each with its chart's data. As in
// Helm, a dependency's values are its values.yaml overlaid by the parent's values under the
// dependency's name, and the parent sees the result there too.
// Each chart's values are validated against its schema on the way.
func (c *chart) scope(values, release map[string]interface{},
	into map[string]scopedTemplate) error {
	if err := c.validate(values); err != nil {
		return err
	}
	for _, dep := range c.dependencies {
		name := dep.metadata["Name"].(string)
		parentView, _ := values[name].(map[string]interface{})
		depValues := coalesce(dep.values, parentView)
		values[name] = depValues
		if err := dep.scope(depValues, release, into); err != nil {
			return err
		}
	}
	for name, text := range c.templates {
		into[name] = scopedTemplate{text, map[string]interface{}{
			"Values":   values,
			"Chart":    c.metadata,
			"Release":  release,
			"Template": map[string]interface{}{"Name": name, "BasePath": c.basePath},
		}}
	}
	return nil
}

// validate checks the chart's values against its values.schema.json, if it has one.
func (c *chart) validate(values map[string]interface{}) error {
	if c.schema == "" {
		return nil
	}
	result, err := gojsonschema.Validate(gojsonschema.NewStringLoader(c.schema),
		gojsonschema.NewGoLoader(values))
	if err != nil {
		return fmt.Errorf("%s/values.schema.json: %v", c.dir, err)
	}
	if result.Valid() {
		return nil
	}
	var problems []string
	for _, problem := range result.Errors() {
		problems = append(problems, "- "+problem.String())
	}
	return fmt.Errorf("values don't meet the specifications of the schema(s) in the following "+
		"chart(s):\n%s:\n%s", c.metadata["Name"], strings.Join(problems, "\n"))
}

func (c *chart) render(values, release map[string]interface{}) (*rendered, error) {
	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["required"] = required
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var out strings.Builder
		err := root.ExecuteTemplate(&out, name, data)
		return out.String(), err
	}
	root.Funcs(funcs)

	templates := map[string]scopedTemplate{}
	if err := c.scope(values, release, templates); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(templates))
	for name := range templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(name).Parse(templates[name].text); err != nil {
			return nil, fmt.Errorf("parse error: %v", err)
		}
	}

	out := &rendered{files: map[string]string{}}
	topNotes := path.Join(c.metadata["Name"].(string), "templates", "NOTES.txt")
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		var text strings.Builder
		if err := root.ExecuteTemplate(&text, name, templates[name].data); err != nil {
			return nil, fmt.Errorf("execution error: %v", err)
		}
		result := strings.ReplaceAll(text.String(), "<no value>", "")
		switch {
		case name == topNotes:
			out.notes = result
		case path.Base(name) == "NOTES.txt": // a dependency's notes: rendered, not shown
		case strings.TrimSpace(result) != "":
			out.files[name] = result
		}
	}
	return out, nil
}

// coalesce returns defaults deep-merged with overrides; a nil override removes the key.
func coalesce(defaults, overrides map[string]interface{}) map[string]interface{} {
	out := deepCopy(defaults).(map[string]interface{})
	for key, value := range overrides {
		inner, isMap := value.(map[string]interface{})
		base, baseIsMap := out[key].(map[string]interface{})
		switch {
		case value == nil:
			delete(out, key)
		case isMap && baseIsMap:
			out[key] = coalesce(base, inner)
		default:
			out[key] = deepCopy(value)
		}
	}
	return out
}

// manifest joins the rendered files the way `helm template` prints them.
func (r *rendered) manifest() string {
	names := make([]string, 0, len(r.files))
	for name := range r.files {
		names = append(names, name)
	}
	sort.Strings(names)
	var out strings.Builder
	for _, name := range names {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.Trim(r.files[name], "\n"))
	}
	return out.String()
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return "" // as Helm: a template function that cannot fail
	}
	return strings.TrimSuffix(string(data), "\n")
}

// required fails rendering, with the chart's message, when the value is nil or "".
func required(message string, value interface{}) (interface{}, error) {
	if value == nil {
		return nil, fmt.Errorf("%s", message)
	}
	if s, ok := value.(string); ok && s == "" {
		return nil, fmt.Errorf("%s", message)
	}
	return value, nil
}

// applySet merges one --set argument: comma-separated key.path=value pairs. A value is a
// scalar or {a,b,...} (a list); a backslash escapes the next character (\, or \.). Scalars are
// typed as Helm types them: true/false, null (removes the key), integers without a leading
// zero; everything else is a string.
func applySet(values map[string]interface{}, set string) error {
	for _, pair := range splitUnescaped(set, ',', true) {
		equals := indexUnescaped(pair, '=')
		if equals <= 0 {
			return fmt.Errorf("--set %q: expected key=value", set)
		}
		keys := splitUnescaped(pair[:equals], '.', false)
		raw := pair[equals+1:]
		var value interface{}
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			list := []interface{}{}
			if inner := raw[1 : len(raw)-1]; inner != "" {
				for _, item := range splitUnescaped(inner, ',', false) {
					list = append(list, typedValue(unescape(item)))
				}
			}
			value = list
		} else {
			value = typedValue(unescape(raw))
		}
		node := values
		for _, key := range keys[:len(keys)-1] {
			key = unescape(key)
			child, ok := node[key].(map[string]interface{})
			if !ok {
				child = map[string]interface{}{}
				node[key] = child
			}
			node = child
		}
		last := unescape(keys[len(keys)-1])
		if value == nil {
			delete(node, last)
		} else {
			node[last] = value
		}
	}
	return nil
}

func typedValue(text string) interface{} {
	switch strings.ToLower(text) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if text == "0" {
		return int64(0)
	}
	if !strings.HasPrefix(text, "0") {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
	}
	return text
}

// splitUnescaped splits on sep where it is not escaped and, with braces set, not inside {...}.
// Escapes are kept for unescape() to remove later.
func splitUnescaped(text string, sep byte, braces bool) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\\':
			i++
		case braces && c == '{':
			depth++
		case braces && c == '}' && depth > 0:
			depth--
		case c == sep && depth == 0:
			parts = append(parts, text[start:i])
			start = i + 1
		}
	}
	return append(parts, text[start:])
}

func indexUnescaped(text string, target byte) int {
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' {
			i++
		} else if text[i] == target {
			return i
		}
	}
	return -1
}

func unescape(text string) string {
	var out strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' && i+1 < len(text) {
			i++
		}
		out.WriteByte(text[i])
	}
	return out.String()
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := normalize(raw).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: expected a mapping at the top", file)
	}
	return m, nil
}

// normalize turns yaml.v2's map[interface{}]interface{} into map[string]interface{}, the type
// Sprig's dict functions and Helm's values use.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for key, value := range t {
			m[fmt.Sprint(key)] = normalize(value)
		}
		return m
	case []interface{}:
		list := make([]interface{}, len(t))
		for i, value := range t {
			list[i] = normalize(value)
		}
		return list
	}
	return v
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for key, value := range t {
			m[key] = deepCopy(value)
		}
		return m
	case []interface{}:
		list := make([]interface{}, len(t))
		for i, value := range t {
			list[i] = deepCopy(value)
		}
		return list
	}
	return v
}

// parseDocuments splits multi-document YAML and parses each document; empty ones are skipped.
func parseDocuments(text string) ([]map[string]interface{}, error) {
	decoder := yaml.NewDecoder(strings.NewReader(text))
	var docs []map[string]interface{}
	for index := 0; ; index++ {
		var raw interface{}
		err := decoder.Decode(&raw)
		if err != nil {
			if err == io.EOF {
				return docs, nil
			}
			return nil, fmt.Errorf("YAML document %d: %v", index, err)
		}
		if raw == nil {
			continue
		}
		doc, ok := normalize(raw).(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("YAML document %d is not a mapping", index)
		}
		docs = append(docs, doc)
	}
}
