package main

// run-daemon: proves that the daemon accepts the flags a chart or manifest gives it. Each
// sidecar's args are run through the real binary, changed only where this machine needs it:
//
//   - --bootstrap-servers becomes --embedded-broker (no Kafka here, and no DNS lookups of the
//     manifest's host names); check-pod checks the list's host:port form instead;
//   - --grpc-listen and --http-listen move to 127.0.0.1:0 (tests bind loopback, port 0), and a
//     unix: socket moves to a temporary directory;
//   - at a log level above info, --log-level=info is appended so that the "ready" line shows;
//     the configured level was still parsed and validated, as the daemon checks every flag.
//
// Then the daemon must log "ready", answer 200 on /healthz and /readyz, and exit 0 on SIGTERM.

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout    = 30 * time.Second
	shutdownTimeout = 20 * time.Second // the daemon's own bound is about 10 s
)

var (
	readyLine = regexp.MustCompile(`\[daemon\] ready$`)
	httpLine  = regexp.MustCompile(`\[daemon\] HTTP listening on (\S+)$`)
)

func runDaemonWithPodArgs(source podSource, binary string) error {
	if binary == "" {
		return fmt.Errorf("-daemon is required")
	}
	text, err := source.load()
	if err != nil {
		return err
	}
	docs, err := parseDocuments(text)
	if err != nil {
		return err
	}
	pods, err := sidecarPods(docs)
	if err != nil {
		return err
	}
	socketDir, err := os.MkdirTemp("", "deploytest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(socketDir)
	for _, pod := range pods {
		args := localArgs(strs(pod.sidecar["args"]), socketDir)
		if err := runDaemon(binary, args); err != nil {
			return fmt.Errorf("%s: %v", pod.where, err)
		}
	}
	return nil
}

// localArgs rewrites a sidecar's args for a run on this machine (see the file comment).
func localArgs(args []string, socketDir string) []string {
	var out []string
	quiet := false
	for _, arg := range args {
		name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		switch name {
		case "bootstrap-servers":
			arg = "--embedded-broker"
		case "grpc-listen":
			arg = "--grpc-listen=127.0.0.1:0"
			if strings.HasPrefix(value, "unix:") {
				arg = "--grpc-listen=unix:" + filepath.Join(socketDir, "grpc.sock")
			}
		case "http-listen":
			arg = "--http-listen=127.0.0.1:0"
		case "log-level":
			quiet = value == "warn" || value == "error"
		}
		out = append(out, arg)
	}
	if quiet {
		out = append(out, "--log-level=info")
	}
	return out
}

func runDaemon(binary string, args []string) error {
	fmt.Printf("running %s %s\n", binary, strings.Join(args, " "))
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	lines := make(chan string, 256)
	go func() {
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	var log []string
	fail := func(format string, args ...interface{}) error {
		cmd.Process.Kill()
		for line := range lines {
			log = append(log, line)
		}
		<-exited
		return fmt.Errorf(format+"\ndaemon log:\n%s", append(args, strings.Join(log, "\n"))...)
	}

	httpAddress := ""
	deadline := time.After(readyTimeout)
	for ready := false; !ready; {
		select {
		case line, ok := <-lines:
			if !ok {
				return fmt.Errorf("the daemon exited before it was ready (%v)\ndaemon log:\n%s",
					<-exited, strings.Join(log, "\n"))
			}
			log = append(log, line)
			if m := httpLine.FindStringSubmatch(line); m != nil {
				httpAddress = m[1]
			}
			ready = readyLine.MatchString(line)
		case <-deadline:
			return fail("no \"ready\" line within %v", readyTimeout)
		}
	}
	if httpAddress == "" {
		return fail("the daemon did not log its HTTP address")
	}
	for _, arg := range args {
		if socket := strings.TrimPrefix(arg, "--grpc-listen=unix:"); socket != arg {
			if info, err := os.Stat(socket); err != nil || info.Mode()&os.ModeSocket == 0 {
				return fail("no gRPC socket at %s (%v)", socket, err)
			}
		}
	}
	client := http.Client{Timeout: 5 * time.Second}
	for _, probe := range []string{"/healthz", "/readyz"} {
		response, err := client.Get("http://" + httpAddress + probe)
		if err != nil {
			return fail("GET %s: %v", probe, err)
		}
		response.Body.Close()
		if response.StatusCode != http.StatusOK {
			return fail("GET %s: status %d, expected 200", probe, response.StatusCode)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fail("SIGTERM: %v", err)
	}
	timeout := time.After(shutdownTimeout)
	for {
		select {
		case line, ok := <-lines:
			if ok {
				log = append(log, line)
				continue
			}
			if err := <-exited; err != nil {
				return fmt.Errorf("after SIGTERM the daemon ended with %v, expected exit 0\n"+
					"daemon log:\n%s", err, strings.Join(log, "\n"))
			}
			fmt.Println("ready, probes answered 200, exit 0 on SIGTERM")
			return nil
		case <-timeout:
			return fail("the daemon did not exit within %v of SIGTERM", shutdownTimeout)
		}
	}
}
