// Self-test of tlog-verify: go test -v in GOPATH mode (./selftest.sh).
//
// A deterministic key signs checkpoints of small trees built with tlog; every
// subcommand must accept the good input and refuse the forgeries. TestExamples
// also checks the committed examples in testdata/ (the ones FORMATS.md shows);
// TLOG_VERIFY_UPDATE=1 rewrites them.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const origin = "clearance.test/log"

// newKey makes a reproducible key pair: Ed25519 seeds come from the seed text.
func newKey(t *testing.T, seed, name string) (signer note.Signer, vkey string) {
	s := sha256.Sum256([]byte(seed))
	skey, vkey, err := note.GenerateKey(bytes.NewReader(s[:]), name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err = note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, vkey
}

func skeyOf(t *testing.T, seed, name string) string {
	s := sha256.Sum256([]byte(seed))
	skey, _, err := note.GenerateKey(bytes.NewReader(s[:]), name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}

// signText signs a note text with the given signers.
func signText(t *testing.T, text string, signers ...note.Signer) string {
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// signCheckpoint signs the C2SP checkpoint of the first size leaves.
func signCheckpoint(t *testing.T, leaves []string, size int, signers ...note.Signer) string {
	root, err := treeRoot(leaves[:size])
	if err != nil {
		t.Fatal(err)
	}
	return signText(t, fmt.Sprintf("%s\n%d\n%s\n", origin, size, root), signers...)
}

func hashStrings(hashes []tlog.Hash) []string {
	out := []string{}
	for _, h := range hashes {
		out = append(out, h.String())
	}
	return out
}

func inclusionProof(t *testing.T, leaves []string, size, index int) []string {
	m, err := buildTree(leaves[:size])
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveRecord(int64(size), int64(index), m)
	if err != nil {
		t.Fatal(err)
	}
	return hashStrings(p)
}

func consistencyProof(t *testing.T, leaves []string, from, to int) string {
	m, err := buildTree(leaves[:to])
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveTree(int64(to), int64(from), m)
	if err != nil {
		t.Fatal(err)
	}
	return toJSON(t, struct {
		From  int      `json:"from"`
		To    int      `json:"to"`
		Proof []string `json:"proof"`
	}{from, to, hashStrings(p)})
}

type receipt struct {
	Format         string          `json:"format"`
	Record         json.RawMessage `json:"record"`
	Leaf           receiptLeaf     `json:"leaf"`
	InclusionProof []string        `json:"inclusion_proof"`
	Checkpoint     string          `json:"checkpoint"`
}

type receiptLeaf struct {
	Index int    `json:"index"`
	Text  string `json:"text"`
}

func makeReceipt(t *testing.T, leaves []string, size, index int, signer note.Signer) receipt {
	return receipt{
		Format:         "clearance-receipt/1",
		Record:         json.RawMessage(leaves[index]),
		Leaf:           receiptLeaf{index, leaves[index]},
		InclusionProof: inclusionProof(t, leaves, size, index),
		Checkpoint:     signCheckpoint(t, leaves, size, signer),
	}
}

func toJSON(t *testing.T, v interface{}) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// files writes contents to files in a temporary directory and returns their paths.
type files struct {
	t   *testing.T
	dir string
}

func (f files) put(name, content string) string {
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// tempPath matches the directories of temporary files, left out of the log.
var tempPath = regexp.MustCompile(`/[^\s:"]*/`)

// expect runs tlog-verify and checks its exit status (and, if given, that the
// summary or the reason contains want), logging what it printed.
func expect(t *testing.T, what string, status int, want string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	got := run(args, &stdout, &stderr)
	out := strings.TrimSpace(stdout.String())
	reason := strings.SplitN(stderr.String(), "\n", 2)[0]
	verdict := map[int]string{0: "accepted", 1: "refused", 2: "usage error"}[got]
	if got != status || !strings.Contains(out+reason, want) {
		t.Errorf("%s: exit %d, want %d (containing %q)\n  stdout: %s\n  stderr: %s", what, got, status, want, out, stderr.String())
		return out
	}
	if got == 0 {
		t.Logf("%-9s %-52s %s", verdict, what, out)
	} else {
		t.Logf("%-9s %-52s %s", verdict, what, tempPath.ReplaceAllString(reason, ""))
	}
	return out
}

var leaves = []string{
	`{"seq":0,"kind":"acceptance","statement":"I accept the terms"}`,
	`{"seq":1,"kind":"evidence","change":"uploaded"}`,
	`{"seq":2,"kind":"access","event":"dossier downloaded"}`,
	`{"seq":3,"kind":"acceptance","statement":"I accept too"}`,
	`{"seq":4,"kind":"access","event":"room opened"}`,
}

func TestCheckpoint(t *testing.T) {
	f := files{t, t.TempDir()}
	signer, vkey := newKey(t, "clearance test key", origin)
	attacker, _ := newKey(t, "attacker key", origin) // same name, other key
	witness, _ := newKey(t, "witness key", "witness.example/w1")
	key := f.put("log.vkey", vkey+"\n")
	good := signCheckpoint(t, leaves, 3, signer)
	root, _ := treeRoot(leaves[:3])
	sign := func(text string) string { return signText(t, text, signer) }

	expect(t, "good checkpoint", 0, `{"origin":"clearance.test/log","size":3,"root":"`+root.String()+`"}`,
		"checkpoint", key, f.put("good", good))
	expect(t, "good checkpoint, --origin", 0, `"size":3`, "checkpoint", "--origin", key, f.put("good", good))
	expect(t, "cosigned by a witness too", 0, `"size":3`,
		"checkpoint", key, f.put("cosigned", signCheckpoint(t, leaves, 3, witness, signer)))
	expect(t, "with an extension line", 0, `"size":3`,
		"checkpoint", key, f.put("ext", sign(fmt.Sprintf("%s\n3\n%s\nextension line\n", origin, root))))
	expect(t, "signed by another key of the same name", 1, "not signed by",
		"checkpoint", key, f.put("attacker", signCheckpoint(t, leaves, 3, attacker)))
	expect(t, "size edited after signing", 1, "invalid signature",
		"checkpoint", key, f.put("edited", strings.Replace(good, "\n3\n", "\n4\n", 1)))
	expect(t, "signature line removed", 1, "malformed note",
		"checkpoint", key, f.put("unsigned", good[:strings.Index(good, "\n\n")+2]))
	other := sign(fmt.Sprintf("clearance.test/other\n3\n%s\n", root))
	expect(t, "other origin, no --origin", 0, `"origin":"clearance.test/other"`, "checkpoint", key, f.put("other", other))
	expect(t, "other origin, --origin", 1, "differs from the key's name", "checkpoint", "--origin", key, f.put("other", other))

	for _, c := range []struct{ what, text, want string }{
		{"two lines", origin + "\n3\n", "2 lines"},
		{"size with a leading zero", origin + "\n03\n" + root.String() + "\n", "not a decimal"},
		{"size with a sign", origin + "\n+3\n" + root.String() + "\n", "not a decimal"},
		{"negative size", origin + "\n-1\n" + root.String() + "\n", "not a decimal"},
		{"root not base64", origin + "\n3\nnot base64!\n", "root hash"},
		{"root of 31 bytes", origin + "\n3\n" + root.String()[:40] + "AA==\n", "root hash"},
		{"root without padding", origin + "\n3\n" + strings.TrimSuffix(root.String(), "=") + "\n", "root hash"},
		{"empty origin", "\n3\n" + root.String() + "\n", "line 1 is empty"},
		{"empty extension line", origin + "\n3\n" + root.String() + "\n\nx\n", "line 4 is empty"},
	} {
		expect(t, "malformed: "+c.what, 1, c.want, "checkpoint", key, f.put("malformed", sign(c.text)))
	}
}

func TestReceipt(t *testing.T) {
	f := files{t, t.TempDir()}
	signer, vkey := newKey(t, "clearance test key", origin)
	attacker, _ := newKey(t, "attacker key", origin)
	key := f.put("log.vkey", vkey)
	good := makeReceipt(t, leaves, 5, 3, signer)
	put := func(r receipt) string { return f.put("receipt.json", toJSON(t, r)) }

	expect(t, "good receipt", 0, `{"index":3,"size":5}`, "receipt", key, put(good))
	expect(t, "good receipt, --origin", 0, `{"index":3,"size":5}`, "receipt", "--origin", key, put(good))
	r := good
	r.Checkpoint = signCheckpoint(t, leaves, 5, attacker)
	expect(t, "checkpoint signed by another key", 1, "not signed by", "receipt", key, put(r))
	r = good
	r.Leaf.Index = 2
	expect(t, "proof for another index (3, not 2)", 1, "leaf 2 is not in the tree", "receipt", key, put(r))
	r = good
	r.Leaf.Text = strings.Replace(r.Leaf.Text, "too", "TOO", 1)
	expect(t, "tampered leaf text", 1, "not in the tree", "receipt", key, put(r))
	r = good
	r.Leaf.Text = leaves[2]
	expect(t, "another leaf's text", 1, "not in the tree", "receipt", key, put(r))
	r = good
	r.InclusionProof = append(append([]string{}, r.InclusionProof...), r.InclusionProof[0])
	expect(t, "proof with a hash too many", 1, "not in the tree", "receipt", key, put(r))
	r = good
	r.InclusionProof = r.InclusionProof[:len(r.InclusionProof)-1]
	expect(t, "proof with a hash too few", 1, "not in the tree", "receipt", key, put(r))
	r = good
	r.Checkpoint = signCheckpoint(t, leaves, 4, signer)
	expect(t, "checkpoint of a smaller tree (4)", 1, "not in the tree", "receipt", key, put(r))
	r = good
	r.Leaf.Index = 5
	expect(t, "index past the tree", 1, "outside the checkpoint's tree", "receipt", key, put(r))
	r = good
	r.Format = "clearance-receipt/2"
	expect(t, "unknown format", 1, "format", "receipt", key, put(r))
	expect(t, "no leaf", 1, "leaf.index and leaf.text are required", "receipt", key,
		f.put("receipt.json", `{"format":"clearance-receipt/1","record":{},"inclusion_proof":[],"checkpoint":""}`))
	expect(t, "not JSON", 1, "not a receipt", "receipt", key, f.put("receipt.json", "receipt"))

	// Every leaf of every tree up to 9 leaves, with tlog's proofs.
	many := manyLeaves(9)
	for size := 1; size <= len(many); size++ {
		for index := 0; index < size; index++ {
			var stdout, stderr bytes.Buffer
			path := put(makeReceipt(t, many, size, index, signer))
			if code := run([]string{"receipt", key, path}, &stdout, &stderr); code != 0 {
				t.Errorf("receipt %d of %d: %s", index, size, stderr.String())
			}
		}
	}
	t.Logf("accepted  every receipt of trees of 1 to 9 leaves (45)")
}

func manyLeaves(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf(`{"seq":%d}`, i))
	}
	return out
}

func TestConsistency(t *testing.T) {
	f := files{t, t.TempDir()}
	signer, vkey := newKey(t, "clearance test key", origin)
	attacker, _ := newKey(t, "attacker key", origin)
	key := f.put("log.vkey", vkey)
	cp := func(name string, l []string, size int, s note.Signer) string {
		return f.put(name, signCheckpoint(t, l, size, s))
	}
	cp3, cp5 := cp("cp3", leaves, 3, signer), cp("cp5", leaves, 5, signer)
	proof := f.put("proof.json", consistencyProof(t, leaves, 3, 5))

	expect(t, "good proof 3 -> 5", 0, `{"from":3,"to":5}`, "consistency", key, cp3, cp5, proof)
	expect(t, "good proof 3 -> 5, --origin", 0, `{"from":3,"to":5}`, "consistency", "--origin", key, cp3, cp5, proof)
	expect(t, "new checkpoint signed by another key", 1, "not signed by",
		"consistency", key, cp3, cp("cp5-attacker", leaves, 5, attacker), proof)

	// A fork: the same key signs a log whose leaf 1 was rewritten and recomputed.
	fork := append([]string{}, leaves...)
	fork[1] = `{"seq":1,"kind":"evidence","change":"deleted"}`
	fork5 := cp("fork5", fork, 5, signer)
	forkProof := f.put("fork-proof.json", consistencyProof(t, fork, 3, 5))
	expect(t, "forked log: fork's proof from our checkpoint 3", 1, "does not extend",
		"consistency", key, cp3, fork5, forkProof)
	expect(t, "forked log: our proof, fork's checkpoint 5", 1, "does not extend",
		"consistency", key, cp3, fork5, proof)
	expect(t, "forked log: fork's checkpoint 3, our 5", 1, "does not extend",
		"consistency", key, cp("fork3", fork, 3, signer), cp5, proof)
	// A log that lost its last leaves and grew again.
	regrown := append(append([]string{}, leaves[:2]...), `{"seq":2,"kind":"forged"}`, leaves[3], leaves[4])
	expect(t, "log truncated to 2 and regrown to 5", 1, "does not extend",
		"consistency", key, cp3, cp("regrown5", regrown, 5, signer), f.put("regrown.json", consistencyProof(t, regrown, 3, 5)))

	expect(t, "proof 2 -> 5 for checkpoints 3 and 5", 1, "checkpoints are of sizes 3 and 5",
		"consistency", key, cp3, cp5, f.put("p25.json", consistencyProof(t, leaves, 2, 5)))
	expect(t, "checkpoints swapped", 1, "checkpoints are of sizes 5 and 3", "consistency", key, cp5, cp3, proof)
	expect(t, "old larger than new", 1, "larger than", "consistency", key, cp5, cp3,
		f.put("p53.json", `{"from":5,"to":3,"proof":[]}`))
	expect(t, "same tree, empty proof", 0, `{"from":5,"to":5}`, "consistency", key, cp5, cp5,
		f.put("p55.json", `{"from":5,"to":5,"proof":[]}`))
	expect(t, "same size, other root", 1, "does not extend", "consistency", key, cp5, fork5,
		f.put("p55.json", `{"from":5,"to":5,"proof":[]}`))
	empty := f.put("cp0", signText(t, fmt.Sprintf("%s\n0\n%s\n", origin, emptyRoot()), signer))
	expect(t, "from the empty tree", 0, `{"from":0,"to":5}`, "consistency", key, empty, cp5,
		f.put("p05.json", `{"from":0,"to":5,"proof":[]}`))
	expect(t, "no proof field", 1, "required", "consistency", key, cp3, cp5, f.put("p.json", `{"from":3,"to":5}`))

	// Every pair of sizes up to 9 leaves, with tlog's proofs.
	many := manyLeaves(9)
	count := 0
	for to := 1; to <= len(many); to++ {
		for from := 1; from <= to; from++ {
			var stdout, stderr bytes.Buffer
			args := []string{"consistency", key, cp("a", many, from, signer), cp("b", many, to, signer),
				f.put("p.json", consistencyProof(t, many, from, to))}
			if code := run(args, &stdout, &stderr); code != 0 {
				t.Errorf("consistency %d -> %d: %s", from, to, stderr.String())
			}
			count++
		}
	}
	t.Logf("accepted  every consistency proof between trees of 1 to 9 leaves (%d)", count)
}

// rfc6962 computes MTH, PATH and PROOF as RFC 6962 section 2.1 writes them, to
// check that tlog's hashes and proofs are the RFC's, in the RFC's order.
func mth(d []string) tlog.Hash {
	switch len(d) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, d[0]...))
	}
	k := split(len(d))
	l, r := mth(d[:k]), mth(d[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func split(n int) int { // the largest power of two smaller than n
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func path(m int, d []string) []tlog.Hash {
	if len(d) == 1 {
		return nil
	}
	k := split(len(d))
	if m < k {
		return append(path(m, d[:k]), mth(d[k:]))
	}
	return append(path(m-k, d[k:]), mth(d[:k]))
}

func subproof(m int, d []string, b bool) []tlog.Hash {
	if m == len(d) {
		if b {
			return nil
		}
		return []tlog.Hash{mth(d)}
	}
	k := split(len(d))
	if m <= k {
		return append(subproof(m, d[:k], b), mth(d[k:]))
	}
	return append(subproof(m-k, d[k:], false), mth(d[:k]))
}

func TestTree(t *testing.T) {
	f := files{t, t.TempDir()}
	for n := 0; n <= 9; n++ {
		many := manyLeaves(n)
		out := expect(t, fmt.Sprintf("tree of %d leaves", n), 0, "", "tree", f.put("leaves.json", toJSON(t, append([]string{}, many...))))
		if want := fmt.Sprintf(`{"size":%d,"root":"%s"}`, n, mth(many)); out != want {
			t.Errorf("tree of %d: %s, RFC 6962 says %s", n, out, want)
		}
		for i := 0; i < n; i++ {
			if got, want := strings.Join(inclusionProof(t, many, n, i), ","), strings.Join(hashStrings(path(i, many)), ","); got != want {
				t.Errorf("inclusion proof %d of %d: tlog %s, RFC 6962 %s", i, n, got, want)
			}
		}
		for m := 1; m < n; m++ {
			var p struct{ Proof []string }
			json.Unmarshal([]byte(consistencyProof(t, many, m, n)), &p)
			if got, want := strings.Join(p.Proof, ","), strings.Join(hashStrings(subproof(m, many, true)), ","); got != want {
				t.Errorf("consistency proof %d -> %d: tlog %s, RFC 6962 %s", m, n, got, want)
			}
		}
	}
	t.Logf("agree     tlog's roots and proofs are RFC 6962's, trees of 0 to 9 leaves")
	expect(t, "not an array of strings", 1, "not a JSON array of strings", "tree", f.put("leaves.json", `[1,2]`))
	expect(t, "null", 1, "not a JSON array of strings", "tree", f.put("leaves.json", `null`))
}

func TestUsage(t *testing.T) {
	f := files{t, t.TempDir()}
	_, vkey := newKey(t, "clearance test key", origin)
	key := f.put("log.vkey", vkey)
	expect(t, "no subcommand", 2, "no subcommand")
	expect(t, "unknown subcommand", 2, "unknown subcommand", "verify", key)
	expect(t, "too few files", 2, "takes 2 file arguments", "checkpoint", key)
	expect(t, "unknown option", 2, "flag provided but not defined", "checkpoint", "--key", key, key)
	expect(t, "missing file", 2, "no such file", "checkpoint", key, filepath.Join(f.dir, "missing"))
	expect(t, "not a verifier key", 2, "not a note verifier key", "checkpoint", f.put("bad.vkey", "clearance.test/log"), key)
	expect(t, "a private key given as the key", 2, "not a note verifier key",
		"checkpoint", f.put("private.vkey", skeyOf(t, "clearance test key", origin)), key)
}

// TestExamples checks testdata/, the examples in FORMATS.md: a 3-leaf log of the
// key clearance.test/log (its private key is in testdata too: a test key only).
func TestExamples(t *testing.T) {
	signer, vkey := newKey(t, "clearance test key", origin)
	example := leaves[:3]
	want := map[string]string{
		"log.vkey":             vkey + "\n",
		"log.skey":             skeyOf(t, "clearance test key", origin) + "\n",
		"leaves.json":          toJSON(t, example),
		"checkpoint-2":         signCheckpoint(t, example, 2, signer),
		"checkpoint-3":         signCheckpoint(t, example, 3, signer),
		"receipt-1.json":       toJSON(t, makeReceipt(t, example, 3, 1, signer)),
		"consistency-2-3.json": consistencyProof(t, example, 2, 3),
	}
	for name, content := range want {
		path := filepath.Join("testdata", name)
		if os.Getenv("TLOG_VERIFY_UPDATE") == "1" {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Errorf("%s differs from what the test makes (TLOG_VERIFY_UPDATE=1 rewrites it): %v", path, err)
		}
	}
	td := func(name string) string { return filepath.Join("testdata", name) }
	expect(t, "testdata/checkpoint-3", 0, `"size":3`, "checkpoint", "--origin", td("log.vkey"), td("checkpoint-3"))
	expect(t, "testdata/receipt-1.json", 0, `{"index":1,"size":3}`, "receipt", "--origin", td("log.vkey"), td("receipt-1.json"))
	expect(t, "testdata/consistency-2-3.json", 0, `{"from":2,"to":3}`, "consistency", "--origin",
		td("log.vkey"), td("checkpoint-2"), td("checkpoint-3"), td("consistency-2-3.json"))
	expect(t, "testdata/leaves.json", 0, `{"size":3,"root":"`+mth(example).String()+`"}`, "tree", td("leaves.json"))
}
