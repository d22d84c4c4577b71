// Package testcert makes the certificates of aioloop's TLS tests and benchmarks, in memory, once
// per process: a certificate authority, a server certificate for ServerName, a client
// certificate, and an untrusted server certificate (signed by another authority) for the same name.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ServerName is the name the server certificates are valid for.
const ServerName = "aioloop.test"

// Set is one generation of certificates.
type Set struct {
	Pool      *x509.CertPool  // holds the authority
	Server    tls.Certificate // for ServerName, signed by the authority
	Client    tls.Certificate // a client certificate, signed by the authority
	Untrusted tls.Certificate // for ServerName, signed by an authority Pool does not hold

	pem map[string][]byte // file name -> PEM, for WriteFiles
}

var (
	once sync.Once
	set  *Set
)

// Get returns the process's certificates, made on first use.
func Get() *Set {
	once.Do(func() { set = generate() })
	return set
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

var serial int64

func template(cn string) *x509.Certificate {
	serial++
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"aioloop tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
}

func authority(cn string) *issuer {
	k := newKey()
	tpl := template(cn)
	tpl.IsCA, tpl.BasicConstraintsValid = true, true
	tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &issuer{c, k, der}
}

func (ca *issuer) leaf(cn string, usage x509.ExtKeyUsage, dns ...string) (tls.Certificate, []byte, []byte) {
	k := newKey()
	tpl := template(cn)
	tpl.DNSNames = dns
	tpl.KeyUsage = x509.KeyUsageDigitalSignature
	tpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		panic(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		panic(err)
	}
	return c, certPEM, keyPEM
}

func generate() *Set {
	ca, other := authority("aioloop test CA"), authority("another CA")
	s := &Set{Pool: x509.NewCertPool(), pem: map[string][]byte{}}
	s.Pool.AddCert(ca.cert)
	s.pem["ca.pem"] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
	s.Server, s.pem["server.pem"], s.pem["server.key"] = ca.leaf(ServerName, x509.ExtKeyUsageServerAuth, ServerName)
	s.Client, s.pem["client.pem"], s.pem["client.key"] = ca.leaf("aioloop client", x509.ExtKeyUsageClientAuth)
	s.Untrusted, s.pem["untrusted.pem"], s.pem["untrusted.key"] = other.leaf(ServerName, x509.ExtKeyUsageServerAuth, ServerName)
	return s
}

// ServerConfig is a server configuration with the server certificate, for exactly version
// (0: TLS 1.2 and 1.3).
func (s *Set) ServerConfig(version uint16) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{s.Server}, ClientCAs: s.Pool}
	pin(c, version)
	return c
}

// ClientConfig is a client configuration that trusts the authority, for exactly version (0: TLS
// 1.2 and 1.3). Its ServerName is empty: the tests set it.
func (s *Set) ClientConfig(version uint16) *tls.Config {
	c := &tls.Config{RootCAs: s.Pool}
	pin(c, version)
	return c
}

func pin(c *tls.Config, version uint16) {
	c.MinVersion = tls.VersionTLS12
	if version != 0 {
		c.MinVersion, c.MaxVersion = version, version
	}
}

// WriteFiles writes the PEM files into dir (ca.pem, server.pem, server.key, client.pem,
// client.key, untrusted.pem, untrusted.key) for peers that read files: Python's ssl, openssl.
func (s *Set) WriteFiles(dir string) error {
	for name, b := range s.pem {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
