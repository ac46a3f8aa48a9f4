package main

// Unit tests of deploytest's own helpers that the ctest checks cannot reach before the daemon has
// the flags they serve (the stand-ins for the Secret's files), and of the PromQL scanner.

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLocalArgsRewritesForThisMachine(t *testing.T) {
	dir := t.TempDir()
	args, err := localArgs([]string{
		"--bootstrap-servers=kafka:9092", "--cluster=eu=e:9092", "--grpc-listen=unix:/run/s/g.sock",
		"--http-listen=0.0.0.0:8080", "--log-level=error", "--tls-cert-file=/etc/tls/tls.crt",
		"--tls-key-file=/etc/tls/tls.key", "--auth-tokens-file=/etc/tokens/tokens.yaml",
		"--threads=2",
	}, dir, []string{"auth-tokens-file"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"--embedded-broker", "--grpc-listen=unix:" + filepath.Join(dir, "grpc.sock"),
		"--http-listen=127.0.0.1:0", "--log-level=error",
		"--tls-cert-file=" + filepath.Join(dir, "tls.crt"),
		"--tls-key-file=" + filepath.Join(dir, "tls.key"), "--threads=2", "--log-level=info",
	}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("localArgs:\n got %q\nwant %q", args, want)
	}
}

func TestStandInCertificateServes127001(t *testing.T) {
	dir := t.TempDir()
	certFile, err := standIn("tls-cert-file", dir)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, err := standIn("tls-key-file", dir)
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := standIn("tls-client-ca-file", dir)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("the certificate and key do not match: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA file holds no certificate")
	}
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("not valid as a client certificate: %v", err)
	}
}

func TestStandInTokensFile(t *testing.T) {
	file, err := standIn("auth-tokens-file", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := readYAMLMap(file)
	if err != nil {
		t.Fatal(err)
	}
	entries := maps(tokens["tokens"])
	if len(entries) != 1 || str(entries[0]["name"]) == "" || str(entries[0]["token"]) == "" ||
		!reflect.DeepEqual(strs(entries[0]["produce"]), []string{"*"}) {
		t.Errorf("tokens file: %v", tokens)
	}
}

func TestMetricNames(t *testing.T) {
	cases := map[string][]string{
		`sum by (topic) (rate(a_total{pod=~"$pod", x="y{z}"}[$__rate_interval]))`: {"a_total"},
		`histogram_quantile(0.99, sum by (api, le) (rate(b_bucket[5m])))`:         {"b_bucket"},
		`c / ignoring(code) group_left d offset 5m > bool 1e3`:                    {"c", "d"},
		`max without (pod) (e) or on (namespace) vector(0) unless f`:              {"e", "f"},
	}
	for expr, want := range cases {
		if got := metricNames(expr); !reflect.DeepEqual(got, want) {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}
