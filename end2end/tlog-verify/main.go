// tlog-verify: Clearance's transparency log (issue 20) checked by code not written
// here: golang.org/x/mod/sumdb/note (Ed25519 signed notes) and sumdb/tlog (RFC 6962 /
// 9162 tree hashes and proofs), x/mod 0.7 and Go 1.19 from Debian. It checks that a
// C2SP checkpoint is well formed and signed by the log's key, that a receipt's leaf is
// in its checkpoint's tree, that a newer checkpoint's tree extends an older one's, and
// computes the root of a list of leaves. FORMATS.md gives every input with examples.
//
//	tlog-verify checkpoint  [--origin] VKEY_FILE CHECKPOINT_FILE
//	tlog-verify receipt     [--origin] VKEY_FILE RECEIPT_FILE
//	tlog-verify consistency [--origin] VKEY_FILE OLD_CHECKPOINT NEW_CHECKPOINT PROOF_FILE
//	tlog-verify tree        LEAVES_FILE
//
// Exit 0 with a JSON line on stdout: verified; 1 with a reason on stderr: refused; 2:
// usage (arguments, unreadable file, bad key). Build: setup_go_verifier (scripts/lib.sh)
// or GOPATH=/usr/share/gocode GO111MODULE=off go build. Self-test: ./selftest.sh.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// usageError is a mistake in how we were called (exit 2): wrong arguments (then
// the usage is shown), an unreadable file or a bad key. Any other error is a
// refusal of the input (exit 1).
type usageError struct {
	msg       string
	showUsage bool
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...interface{}) error {
	return usageError{fmt.Sprintf(format, args...), true}
}

func setupErrorf(format string, args ...interface{}) error {
	return usageError{fmt.Sprintf(format, args...), false}
}

const usage = `usage:
  tlog-verify checkpoint  [--origin] VKEY_FILE CHECKPOINT_FILE
  tlog-verify receipt     [--origin] VKEY_FILE RECEIPT_FILE
  tlog-verify consistency [--origin] VKEY_FILE OLD_CHECKPOINT_FILE NEW_CHECKPOINT_FILE PROOF_FILE
  tlog-verify tree        LEAVES_FILE
--origin: refuse a checkpoint whose origin line differs from the key's name`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	summary, err := dispatch(args)
	if err != nil {
		// One line, whatever the error says.
		fmt.Fprintf(stderr, "tlog-verify: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		var u usageError
		if errors.As(err, &u) {
			if u.showUsage {
				fmt.Fprintln(stderr, usage)
			}
			return 2
		}
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.Encode(summary)
	return 0
}

func dispatch(args []string) (interface{}, error) {
	if len(args) == 0 {
		return nil, usagef("no subcommand")
	}
	cmd, args := args[0], args[1:]
	files := map[string]int{"checkpoint": 2, "receipt": 2, "consistency": 4, "tree": 1}
	n, known := files[cmd]
	if !known {
		return nil, usagef("unknown subcommand %q", cmd)
	}
	flags := flag.NewFlagSet(cmd, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	originIsKey := flags.Bool("origin", false, "")
	if err := flags.Parse(args); err != nil {
		return nil, usagef("%s: %v", cmd, err)
	}
	args = flags.Args()
	if len(args) != n {
		return nil, usagef("%s takes %d file arguments, got %d", cmd, n, len(args))
	}
	if cmd == "tree" {
		if *originIsKey {
			return nil, usagef("tree takes no --origin")
		}
		return treeCmd(args[0])
	}
	v, err := readVerifier(args[0])
	if err != nil {
		return nil, err
	}
	switch cmd {
	case "checkpoint":
		cp, err := openCheckpointFile(v, args[1], *originIsKey)
		if err != nil {
			return nil, err
		}
		return struct {
			Origin string `json:"origin"`
			Size   int64  `json:"size"`
			Root   string `json:"root"`
		}{cp.origin, cp.size, cp.root.String()}, nil
	case "receipt":
		return receiptCmd(v, args[1], *originIsKey)
	default:
		return consistencyCmd(v, args[1], args[2], args[3], *originIsKey)
	}
}

// readVerifier reads a note verifier key, "<name>+<hash hex>+<base64 key>", from a file.
func readVerifier(file string) (note.Verifier, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, setupErrorf("%v", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, setupErrorf("%s: not a note verifier key: %v", file, err)
	}
	return v, nil
}

// readFile reads an input file; not being able to is a usage error.
func readFile(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, setupErrorf("%v", err)
	}
	return data, nil
}

// A checkpoint is the body of a C2SP tlog-checkpoint signed note.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func openCheckpointFile(v note.Verifier, file string, originIsKey bool) (checkpoint, error) {
	data, err := readFile(file)
	if err != nil {
		return checkpoint{}, err
	}
	cp, err := openCheckpoint(v, data, originIsKey)
	if err != nil {
		return checkpoint{}, fmt.Errorf("%s: %v", file, err)
	}
	return cp, nil
}

// openCheckpoint checks the note's signature by v (other signatures, such as a
// witness's cosignature, are allowed and ignored) and parses its text.
func openCheckpoint(v note.Verifier, msg []byte, originIsKey bool) (checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			// x/mod 0.7 says only "note has no verifiable signatures": name the signers.
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return checkpoint{}, fmt.Errorf("not signed by %s+%08x (signed by %s)",
				v.Name(), v.KeyHash(), strings.Join(by, ", "))
		}
		return checkpoint{}, fmt.Errorf("signed note: %v", err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return checkpoint{}, err
	}
	if originIsKey && cp.origin != v.Name() {
		return checkpoint{}, fmt.Errorf("origin %q differs from the key's name %q", cp.origin, v.Name())
	}
	return cp, nil
}

// parseCheckpoint parses a C2SP tlog-checkpoint body: the origin, the tree size in
// decimal (no sign, no leading zero), the root hash in standard base64, then any
// extension lines; every line non-empty and ending in a newline. tlog.ParseTree
// only reads the old "go.sum database tree" form, hence this.
func parseCheckpoint(text string) (checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return checkpoint{}, errors.New("checkpoint body does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, fmt.Errorf("checkpoint body has %d lines, want at least 3", len(lines))
	}
	for i, line := range lines {
		if line == "" {
			return checkpoint{}, fmt.Errorf("checkpoint body line %d is empty", i+1)
		}
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return checkpoint{}, fmt.Errorf("checkpoint tree size %q is not a decimal number", lines[1])
	}
	root, err := parseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint root hash: %v", err)
	}
	return checkpoint{origin: lines[0], size: size, root: root}, nil
}

// parseHash decodes a 32-byte hash from canonical, padded standard base64.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	data, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(data) != tlog.HashSize || strings.ContainsAny(s, "\r\n") {
		return h, fmt.Errorf("%q is not the standard base64 of %d bytes", s, tlog.HashSize)
	}
	copy(h[:], data)
	return h, nil
}

func parseHashes(what string, list []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", what, i, err)
		}
		hashes[i] = h
	}
	return hashes, nil
}

// decodeJSON decodes exactly one JSON value from data into v.
func decodeJSON(data []byte, v interface{}) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// receiptCmd checks a receipt: its checkpoint is signed by v, and its inclusion
// proof shows leaf.text at leaf.index in the tree that checkpoint commits to.
// The record is not interpreted: what is proved is the leaf text.
func receiptCmd(v note.Verifier, file string, originIsKey bool) (interface{}, error) {
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	var r struct {
		Format string          `json:"format"`
		Record json.RawMessage `json:"record"`
		Leaf   *struct {
			Index *int64  `json:"index"`
			Text  *string `json:"text"`
		} `json:"leaf"`
		InclusionProof []string `json:"inclusion_proof"`
		Checkpoint     *string  `json:"checkpoint"`
	}
	if err := decodeJSON(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a receipt: %v", file, err)
	}
	switch {
	case r.Format != "clearance-receipt/1":
		return nil, fmt.Errorf("%s: format %q, want \"clearance-receipt/1\"", file, r.Format)
	case len(r.Record) == 0 || string(r.Record) == "null":
		return nil, fmt.Errorf("%s: no record", file)
	case r.Leaf == nil || r.Leaf.Index == nil || r.Leaf.Text == nil:
		return nil, fmt.Errorf("%s: leaf.index and leaf.text are required", file)
	case r.InclusionProof == nil:
		return nil, fmt.Errorf("%s: no inclusion_proof", file)
	case r.Checkpoint == nil:
		return nil, fmt.Errorf("%s: no checkpoint", file)
	}
	cp, err := openCheckpoint(v, []byte(*r.Checkpoint), originIsKey)
	if err != nil {
		return nil, fmt.Errorf("%s: checkpoint: %v", file, err)
	}
	index := *r.Leaf.Index
	if index < 0 || index >= cp.size {
		return nil, fmt.Errorf("%s: leaf index %d is outside the checkpoint's tree of size %d", file, index, cp.size)
	}
	proof, err := parseHashes("inclusion_proof", r.InclusionProof)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	leaf := tlog.RecordHash([]byte(*r.Leaf.Text)) // SHA-256(0x00 || text)
	if err := tlog.CheckRecord(proof, cp.size, cp.root, index, leaf); err != nil {
		return nil, fmt.Errorf("%s: leaf %d is not in the tree of size %d: %v", file, index, cp.size, err)
	}
	return struct {
		Index int64 `json:"index"`
		Size  int64 `json:"size"`
	}{index, cp.size}, nil
}

// consistencyCmd checks that the tree of the new checkpoint extends the tree of
// the old one: both signed by v, and the proof's sizes are theirs.
func consistencyCmd(v note.Verifier, oldFile, newFile, proofFile string, originIsKey bool) (interface{}, error) {
	old, err := openCheckpointFile(v, oldFile, originIsKey)
	if err != nil {
		return nil, err
	}
	cur, err := openCheckpointFile(v, newFile, originIsKey)
	if err != nil {
		return nil, err
	}
	data, err := readFile(proofFile)
	if err != nil {
		return nil, err
	}
	var p struct {
		From  *int64   `json:"from"`
		To    *int64   `json:"to"`
		Proof []string `json:"proof"`
	}
	if err := decodeJSON(data, &p); err != nil {
		return nil, fmt.Errorf("%s: not a consistency proof: %v", proofFile, err)
	}
	if p.From == nil || p.To == nil || p.Proof == nil {
		return nil, fmt.Errorf("%s: from, to and proof are required", proofFile)
	}
	if *p.From != old.size || *p.To != cur.size {
		return nil, fmt.Errorf("%s: proof is from %d to %d, checkpoints are of sizes %d and %d",
			proofFile, *p.From, *p.To, old.size, cur.size)
	}
	if old.origin != cur.origin {
		return nil, fmt.Errorf("checkpoints of different logs: %q and %q", old.origin, cur.origin)
	}
	if old.size > cur.size {
		return nil, fmt.Errorf("old checkpoint's tree (%d) is larger than the new one's (%d)", old.size, cur.size)
	}
	proof, err := parseHashes("proof", p.Proof)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", proofFile, err)
	}
	if old.size == 0 {
		// Every tree extends the empty one; tlog.CheckTree refuses size 0.
		if len(proof) != 0 || old.root != emptyRoot() {
			return nil, errors.New("a proof from the empty tree is empty and the empty tree's root is SHA-256 of nothing")
		}
	} else if err := tlog.CheckTree(proof, cur.size, cur.root, old.size, old.root); err != nil {
		return nil, fmt.Errorf("tree of size %d does not extend tree of size %d: %v", cur.size, old.size, err)
	}
	return struct {
		From int64 `json:"from"`
		To   int64 `json:"to"`
	}{old.size, cur.size}, nil
}

// emptyRoot is RFC 6962's hash of the empty tree; tlog.TreeHash(0, …) returns zeros.
func emptyRoot() tlog.Hash { return sha256.Sum256(nil) }

// memoryHashes keeps a tree's stored hashes (tlog's layout) in memory.
type memoryHashes []tlog.Hash

func (m *memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

// buildTree appends the leaves one by one as tlog does and returns the stored hashes.
func buildTree(leaves []string) (*memoryHashes, error) {
	m := &memoryHashes{}
	for i, text := range leaves {
		hashes, err := tlog.StoredHashes(int64(i), []byte(text), m)
		if err != nil {
			return nil, err
		}
		*m = append(*m, hashes...)
	}
	return m, nil
}

func treeRoot(leaves []string) (tlog.Hash, error) {
	if len(leaves) == 0 {
		return emptyRoot(), nil
	}
	m, err := buildTree(leaves)
	if err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(int64(len(leaves)), m)
}

// treeCmd prints the size and root of the tree of the leaves in a JSON array of strings.
func treeCmd(file string) (interface{}, error) {
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	var leaves []string
	if err := decodeJSON(data, &leaves); err != nil || leaves == nil {
		return nil, fmt.Errorf("%s: not a JSON array of strings", file)
	}
	root, err := treeRoot(leaves)
	if err != nil {
		return nil, err
	}
	return struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
	}{int64(len(leaves)), root.String()}, nil
}
