// deploytest checks the container image recipe, the Kubernetes manifest and the Helm chart of
// kafka-sidecar without Docker, Helm or a cluster. tests/deploy/CMakeLists.txt runs it from
// ctest, one subcommand per test:
//
//	render        render a chart like `helm template` (a documented subset of Helm: render.go)
//	check-pod     render a chart or read a manifest, parse every document, and check the
//	              sidecar container: flags, probes, ports, security context (pod.go)
//	render-fails  render a chart and expect an error naming a message (e.g. a `required` value)
//	run-daemon    start the daemon with the flags of the chart or manifest (daemon.go)
//	image-libs    check that the Dockerfile's runtime stage installs every shared library the
//	              binaries load (image.go)
//	monitoring    check the Grafana dashboard and the alert rules, and the metric names their
//	              expressions use (monitoring.go)
//
// Exit status: 0 when the check passes, 1 when it fails (the reasons go to stderr), 2 on a usage
// error.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(value string) error {
	*l = append(*l, value)
	return nil
}

// podSource names where pod specs come from: a chart with overrides, or a manifest file.
type podSource struct {
	chart    string
	sets     stringList
	release  string
	manifest string
}

func (s *podSource) register(fs *flag.FlagSet) {
	fs.StringVar(&s.chart, "chart", "", "chart directory to render")
	fs.Var(&s.sets, "set", "a Helm-style override, key.path=value (repeatable)")
	fs.StringVar(&s.release, "release", "demo", "release name used when rendering")
	fs.StringVar(&s.manifest, "manifest", "", "Kubernetes manifest file (instead of -chart)")
}

// load renders the chart or reads the manifest, and returns its YAML text.
func (s *podSource) load() (string, error) {
	if (s.chart == "") == (s.manifest == "") {
		return "", fmt.Errorf("give exactly one of -chart and -manifest")
	}
	if s.manifest != "" {
		data, err := os.ReadFile(s.manifest)
		return string(data), err
	}
	chart, err := loadChart(s.chart)
	if err != nil {
		return "", err
	}
	values, err := chart.valuesWithOverrides(s.sets)
	if err != nil {
		return "", err
	}
	out, err := chart.render(values, releaseInfo(s.release))
	if err != nil {
		return "", err
	}
	return out.manifest(), nil
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: deploytest COMMAND [flags]   (deploytest COMMAND -h for flags)
commands: render, check-pod, render-fails, run-daemon, image-libs, monitoring
`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	command, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(command, flag.ExitOnError)
	var err error
	switch command {
	case "render":
		var source podSource
		source.register(fs)
		notes := fs.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
		fs.Parse(args)
		err = runRender(source, *notes)
	case "check-pod":
		var source podSource
		var expect podExpectations
		source.register(fs)
		expect.register(fs)
		fs.Parse(args)
		err = runCheckPod(source, expect)
	case "render-fails":
		var source podSource
		source.register(fs)
		message := fs.String("expect-error", "", "text the rendering error must contain")
		fs.Parse(args)
		err = runRenderFails(source, *message)
	case "run-daemon":
		var source podSource
		source.register(fs)
		binary := fs.String("daemon", "", "the kafka-sidecar binary")
		var pending stringList
		fs.Var(&pending, "pending-flag", "a flag (without --) to leave out when the daemon's "+
			"--help does not list it yet (repeatable)")
		fs.Parse(args)
		err = runDaemonWithPodArgs(source, *binary, pending)
	case "image-libs":
		dockerfile := fs.String("dockerfile", "", "the Dockerfile whose last stage is the image")
		var binaries stringList
		fs.Var(&binaries, "binary", "a binary the image ships (repeatable)")
		cmakeLists := fs.String("cmakelists", "", "the top-level CMakeLists.txt the build stage "+
			"configures: every directory it adds unconditionally must be copied")
		var problems stringList
		fs.Var(&problems, "expect-problem", expectProblemUsage)
		fs.Parse(args)
		err = runImageLibs(*dockerfile, *cmakeLists, binaries, problems)
	case "monitoring":
		dashboard := fs.String("dashboard", "", "the Grafana dashboard (JSON)")
		rules := fs.String("rules", "", "the alert rules (a PrometheusRule or a rules file)")
		metrics := fs.String("metrics", "", "the list of known metric names (metrics.txt)")
		var problems stringList
		fs.Var(&problems, "expect-problem", expectProblemUsage)
		fs.Parse(args)
		err = runMonitoring(*dashboard, *rules, *metrics, problems)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "deploytest %s: FAIL\n%v\n", command, err)
		os.Exit(1)
	}
	if command != "render" {
		fmt.Printf("deploytest %s: ok\n", command)
	}
}

func runRender(source podSource, notes bool) error {
	if !notes {
		text, err := source.load()
		if err != nil {
			return err
		}
		fmt.Print(text)
		return nil
	}
	if source.chart == "" {
		return fmt.Errorf("-notes needs -chart")
	}
	chart, err := loadChart(source.chart)
	if err != nil {
		return err
	}
	values, err := chart.valuesWithOverrides(source.sets)
	if err != nil {
		return err
	}
	out, err := chart.render(values, releaseInfo(source.release))
	if err != nil {
		return err
	}
	fmt.Print(out.notes)
	return nil
}

func runRenderFails(source podSource, message string) error {
	if message == "" {
		return fmt.Errorf("-expect-error is required")
	}
	_, err := source.load()
	if err == nil {
		return fmt.Errorf("rendering succeeded; expected an error containing %q", message)
	}
	if !strings.Contains(err.Error(), message) {
		return fmt.Errorf("rendering failed with %q; expected an error containing %q", err, message)
	}
	fmt.Printf("rendering failed as expected: %v\n", err)
	return nil
}
