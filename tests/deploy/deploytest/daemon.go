package main

// run-daemon: proves that the daemon accepts the flags a chart or manifest gives it. Each
// sidecar's args are run through the real binary, changed only where this machine needs it:
//
//   - --bootstrap-servers becomes --embedded-broker (no Kafka here, and no DNS lookups of the
//     manifest's host names); check-pod checks the list's host:port form instead;
//   - --cluster entries are left out: their brokers cannot be reached here, and the daemon is
//     ready only when every cluster is (check-pod checks their form);
//   - --grpc-listen and --http-listen move to 127.0.0.1:0 (tests bind loopback, port 0), and a
//     unix: socket moves to a temporary directory;
//   - at a log level above info, --log-level=info is appended so that the "ready" line shows;
//     the configured level was still parsed and validated, as the daemon checks every flag;
//   - files from the pod's Secret are replaced by stand-ins made here: a self-signed certificate
//     for 127.0.0.1 and its key (also the client CA), and a tokens file;
//   - a flag named by -pending-flag that the daemon's --help does not list is left out, with a
//     note: it is on its way from another branch, and the test uses it once the daemon has it.
//
// Then the daemon must log "ready", answer 200 on /healthz and /readyz (over HTTPS, without
// checking the certificate as the kubelet does, when TLS is on), and exit 0 on SIGTERM.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
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
	httpLine  = regexp.MustCompile(`\[daemon\] HTTP listening on (\S+)`)
)

func runDaemonWithPodArgs(source podSource, binary string, pending []string) error {
	if binary == "" {
		return fmt.Errorf("-daemon is required")
	}
	help, err := exec.Command(binary, "--help").Output()
	if err != nil {
		return fmt.Errorf("%s --help: %v", binary, err)
	}
	var absent []string
	for _, name := range pending {
		if !strings.Contains(string(help), "--"+name+"=") {
			absent = append(absent, name)
		}
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
		args, err := localArgs(strs(pod.sidecar["args"]), socketDir, absent)
		if err != nil {
			return err
		}
		if err := runDaemon(binary, args); err != nil {
			return fmt.Errorf("%s: %v", pod.where, err)
		}
	}
	return nil
}

// localArgs rewrites a sidecar's args for a run on this machine (see the file comment); dir
// holds the socket and the stand-in files.
func localArgs(args []string, dir string, absent []string) ([]string, error) {
	var out []string
	quiet := false
	for _, arg := range args {
		name, value, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if contains(absent, name) {
			fmt.Printf("left out %s: this daemon does not have --%s yet\n", arg, name)
			continue
		}
		switch name {
		case "cluster":
			fmt.Printf("left out %s: its brokers cannot be reached here\n", arg)
			continue
		case "bootstrap-servers":
			arg = "--embedded-broker"
		case "grpc-listen":
			arg = "--grpc-listen=127.0.0.1:0"
			if strings.HasPrefix(value, "unix:") {
				arg = "--grpc-listen=unix:" + filepath.Join(dir, "grpc.sock")
			}
		case "http-listen":
			arg = "--http-listen=127.0.0.1:0"
		case "log-level":
			quiet = value == "warn" || value == "error"
		case "tls-cert-file", "tls-key-file", "tls-client-ca-file", "auth-tokens-file":
			file, err := standIn(name, dir)
			if err != nil {
				return nil, err
			}
			arg = "--" + name + "=" + file
		}
		out = append(out, arg)
	}
	if quiet {
		out = append(out, "--log-level=info")
	}
	return out, nil
}

// standIn writes (once) and returns the stand-in file for a file flag.
func standIn(flagName, dir string) (string, error) {
	certFile := filepath.Join(dir, "tls.crt")
	keyFile := filepath.Join(dir, "tls.key")
	if flagName == "auth-tokens-file" {
		file := filepath.Join(dir, "tokens.yaml")
		text := "tokens:\n  - name: deploytest\n    token: deploytest-stand-in-token\n" +
			"    produce: [\"*\"]\n    consume: [\"*\"]\n    groups: [\"*\"]\n"
		return file, os.WriteFile(file, []byte(text), 0o600)
	}
	if _, err := os.Stat(certFile); err != nil {
		if err := writeSelfSigned(certFile, keyFile); err != nil {
			return "", err
		}
	}
	if flagName == "tls-key-file" {
		return keyFile, nil
	}
	return certFile, nil // the certificate, and as its own CA the client CA bundle
}

// writeSelfSigned makes a self-signed ECDSA certificate for 127.0.0.1 and localhost.
func writeSelfSigned(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	template := x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "deploytest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyFile, keyPEM, 0o600)
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
	scheme := "http://"
	for _, arg := range args {
		if strings.HasPrefix(arg, "--tls-cert-file=") {
			scheme = "https://"
		}
	}
	// As the kubelet's HTTPS probes: no check of the certificate.
	client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, probe := range []string{"/healthz", "/readyz"} {
		response, err := client.Get(scheme + httpAddress + probe)
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
